"""The pooled ENGINE as Django uses it, on a real server."""
from __future__ import absolute_import, division, print_function

import io
import logging
import os
import sys
import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections, transaction

import dbpool
from dbpool import compat, stats
from dbpool.db.errors import OperationalError
from dbpool.errors import PoolTimeout
from tests.backends.conftest import request_scope_only
from tests.backends.djangocompat import (
    HAS_ATOMIC, HAS_THREAD_SHARING, close_all, connect, extra_alias, serializable_level,
    thread_sharing)
from tests.support import run_in_child, run_threads_and_watch, wait_until

needs_atomic = pytest.mark.skipif(not HAS_ATOMIC, reason='atomic() arrived in Django 1.6')


def query(sql, alias='default'):
    return query_on(connections[alias], sql)


def query_on(wrapper, sql):
    """The first row of ``sql`` run through this very wrapper (a shared one, say)."""
    cursor = wrapper.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchone()
    finally:
        cursor.close()


def backend_pid(alias='default'):
    return query('SELECT pg_backend_pid()', alias)[0]


def full_settings(**options):
    """A complete settings dict (Django's defaults filled in) with these OPTIONS."""
    return dict(connections['default'].settings_dict, OPTIONS=options)


def pool_of(alias):
    found = [snapshot for snapshot in dbpool.pool_stats() if snapshot['alias'] == alias]
    assert len(found) == 1, found
    return found[0]


def in_thread(function, *args):
    """Run ``function`` in a new thread (its own Django connection); return its result."""
    result = []

    def run():
        try:
            result.append(function(*args))
        finally:
            close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return result[0]


def test_both_engine_names_give_the_same_pooled_wrapper():
    from dbpool.db.backends.postgresql import base as modern
    from dbpool.db.backends.postgresql_psycopg2 import base as historic
    assert modern.DatabaseWrapper is historic.DatabaseWrapper
    assert isinstance(connections['historic'], modern.DatabaseWrapper)
    assert isinstance(connections['default'], modern.DatabaseWrapper)


def test_the_historic_configuration_works_verbatim():
    first = backend_pid('historic')
    connections['historic'].close()
    assert backend_pid('historic') == first
    assert pool_of('historic')['max_conns'] == 1


def test_close_returns_the_connection_and_the_next_query_reuses_it():
    first = backend_pid()
    connection.close()
    assert pool_of('default')[stats.CONNECTIONS_IDLE] == 1
    assert backend_pid() == first
    assert pool_of('default')[stats.CONNECTIONS_CREATED] == 1


def test_the_end_of_a_request_returns_the_connection(admin):
    handler = WSGIHandler()
    environ = {
        'REQUEST_METHOD': 'GET', 'PATH_INFO': '/pid/', 'SERVER_NAME': 'testserver',
        'SERVER_PORT': '80', 'wsgi.input': io.BytesIO(b''), 'wsgi.url_scheme': 'http',
        'wsgi.errors': sys.stderr, 'wsgi.version': (1, 0), 'wsgi.multithread': True,
        'wsgi.multiprocess': False, 'wsgi.run_once': False,
    }
    pids = []
    for _ in range(3):
        response = handler(dict(environ), lambda status, headers: None)
        pids.append(int(b''.join(response)))
        response.close()  # fires request_finished, as a WSGI server does
        snapshot = pool_of('default')
        assert (snapshot[stats.CONNECTIONS_IN_USE], snapshot[stats.CONNECTIONS_IDLE]) == (0, 1)
    assert len(set(pids)) == 1
    # (Sessions of earlier tests may take a moment to leave the server.)
    assert wait_until(lambda: admin.backend_pids('dbpool-default') == pids[:1])


def test_pool_keys_never_reach_the_driver_and_other_options_do(admin):
    pid = backend_pid()
    # application_name went to libpq; MAX_CONNS & co. would have made it fail.
    assert wait_until(lambda: admin.backend_pids('dbpool-default') == [pid])
    # The shared settings dict still holds every key for the next thread.
    assert connection.settings_dict['OPTIONS']['MAX_CONNS'] == 4


def test_threads_share_one_bounded_pool(admin):
    def work():
        try:
            for _ in range(10):
                query('SELECT pg_sleep(0.002)')
                connection.close()
        finally:
            close_all()

    peak, errors = run_threads_and_watch(admin, 'dbpool-default', work, threads=16)
    assert errors == []
    assert 1 <= peak <= 4
    assert pool_of('default')[stats.CHECKOUTS] == 160


@request_scope_only
def test_exhaustion_raises_a_django_operational_error_that_says_what_to_change():
    held = threading.Event()
    release = threading.Event()

    def hold():
        backend_pid('tiny')
        held.set()
        release.wait(10)

    holder = threading.Thread(target=lambda: in_thread(hold))
    holder.start()
    assert held.wait(10)
    try:
        with pytest.raises(OperationalError) as raised:
            backend_pid('tiny')
    finally:
        release.set()
        holder.join(10)
    assert isinstance(raised.value, PoolTimeout)
    message = str(raised.value)
    assert "pool for alias 'tiny'" in message
    assert 'MAX_CONNS=1, 1 in use, 0 opening, 0 waiting' in message
    assert "Raise OPTIONS['MAX_CONNS'] or OPTIONS['POOL_TIMEOUT']" in message
    # Once the holder is done, the next request is served.
    backend_pid('tiny')


@pytest.mark.parametrize('options, extra, names', [
    ({'MAX_CONNS': 0}, {}, ['MAX_CONNS=0']),
    ({'MAX_CONNS': -1}, {}, ['MAX_CONNS=-1']),
    ({'MAX_CONNS': 'ten'}, {}, ["MAX_CONNS='ten'"]),
    ({'MAX_CONNS': 2, 'MIN_CONNS': 5}, {}, ['MIN_CONNS (5)', 'MAX_CONNS (2)']),
    ({'POOL_TIMEOUT': -1}, {}, ['POOL_TIMEOUT=-1']),
    ({'IDLE_TIMEOUT': -3}, {}, ['IDLE_TIMEOUT=-3']),
    ({'pool': True}, {}, ["['pool']", 'MAX_CONNS']),
    ({}, {'CONN_MAX_AGE': 60}, ['CONN_MAX_AGE', 'Set CONN_MAX_AGE to 0']),
    ({}, {'CONN_MAX_AGE': None}, ['CONN_MAX_AGE', 'Set CONN_MAX_AGE to 0']),
])
def test_bad_settings_raise_improperly_configured_naming_the_key(options, extra, names):
    settings_dict = dict(connection.settings_dict, OPTIONS=options, **extra)
    wrapper = type(connections['default'])(settings_dict, 'broken')
    with pytest.raises(ImproperlyConfigured) as raised:
        connect(wrapper)
    message = str(raised.value)
    assert "DATABASES['broken']" in message
    for name in names:
        assert name in message


@needs_atomic
def test_closing_inside_atomic_discards_the_session_instead_of_sharing_it():
    with pytest.raises(Exception):
        with transaction.atomic():
            first = backend_pid()
            connection.close()
            # Django refuses to go on with a connection closed mid-transaction.
            backend_pid()
    connection.close()
    assert pool_of('default')['discarded_' + stats.DISCARD_IN_ATOMIC] == 1
    assert backend_pid() != first


def test_a_changed_database_name_gets_its_own_pool_and_the_old_one_closes(admin):
    backend_pid()
    connection.close()
    settings_dict = connection.settings_dict
    old_name = settings_dict['NAME']
    settings_dict['NAME'] = 'postgres'
    try:
        assert query('SELECT current_database()') == ('postgres',)
        connection.close()
        assert pool_of('default')['dbname'] == 'postgres'
        assert wait_until(lambda: admin.query(
            "SELECT datname FROM pg_stat_activity "
            "WHERE application_name = 'dbpool-default'") == [('postgres',)])
    finally:
        settings_dict['NAME'] = old_name


def test_a_backend_terminated_between_requests_is_replaced_unseen(admin):
    first = backend_pid()
    connection.close()
    admin.terminate('dbpool-default')
    # pg_terminate_backend only signals; "between requests" means it is done.
    assert wait_until(lambda: admin.backend_pids('dbpool-default') == [])
    assert backend_pid() != first
    assert pool_of('default')['discarded_' + stats.DISCARD_BROKEN] == 1


@pytest.mark.skipif(compat.ERA in ('django13', 'django14', 'django16'),
                    reason='no maintenance alias before Django 1.7')
def test_maintenance_connections_bypass_the_pool(admin):
    settings_dict = dict(connections['default'].settings_dict, NAME=None,
                         OPTIONS={'application_name': 'dbpool-nodb'})
    wrapper = type(connections['default'])(settings_dict, compat.NO_DB_ALIAS)
    connect(wrapper)
    assert admin.backend_pids('dbpool-nodb') != []
    wrapper.close()
    assert wait_until(lambda: admin.backend_pids('dbpool-nodb') == [])
    assert all(snapshot['alias'] != compat.NO_DB_ALIAS for snapshot in dbpool.pool_stats())


@pytest.mark.skipif(compat.ERA in ('django13', 'django14'),
                    reason="OPTIONS['isolation_level'] arrived in Django 1.6")
def test_the_isolation_level_option_holds_on_reused_connections():
    settings_dict = full_settings(MAX_CONNS=1, isolation_level=serializable_level())
    seen = []
    with extra_alias('serial', settings_dict) as wrapper:
        for _ in range(2):
            with transaction.atomic(using='serial'):
                seen.append(query("SELECT pg_backend_pid(), "
                                  "current_setting('transaction_isolation')", 'serial'))
            wrapper.close()
    assert seen[0] == seen[1]
    assert seen[0][1] == 'serializable'


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork')
def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_alone():
    parent_pid = backend_pid()  # left checked out across the fork

    def in_child():
        message = str(backend_pid())
        connection.close()
        return message

    _, reply = run_in_child(in_child)
    assert int(reply) != parent_pid
    assert backend_pid() == parent_pid


def test_the_password_never_shows_in_errors_reprs_logs_or_stats(admin, caplog):
    password = 'Zebra-Sekr3t-9417'
    admin.query("DROP ROLE IF EXISTS dbpool_secret_user")
    admin.query("CREATE ROLE dbpool_secret_user LOGIN PASSWORD '%s'" % password)
    caplog.set_level(logging.DEBUG, logger='dbpool')
    good = full_settings(MAX_CONNS=1, POOL_TIMEOUT=0.2, application_name='dbpool-secret')
    good.update(USER='dbpool_secret_user', PASSWORD=password)
    bad = dict(good, PASSWORD='Wrong-Zebra-5531')
    texts = []
    with extra_alias('secret', good) as holder:
        connect(holder)
        texts.append(repr(holder._dbpool_pool))
        texts.append(repr(holder._dbpool_entry))
        other = type(holder)(holder.settings_dict, 'secret')
        with pytest.raises(OperationalError) as timeout:
            connect(other)
        texts.append(str(timeout.value))
        with extra_alias('wrong', bad) as wrong:
            with pytest.raises(Exception) as refused:
                connect(wrong)
            texts.append(str(refused.value))
        texts.append(repr(dbpool.pool_stats()))
    texts.extend(record.getMessage() for record in caplog.records)
    assert 'password authentication failed' in texts[3]
    for text in texts:
        assert password not in text
        assert 'Wrong-Zebra-5531' not in text


@pytest.mark.skipif(compat.ERA in ('django13', 'django14'),
                    reason='set_autocommit() arrived in Django 1.6')
def test_django_session_set_up_is_applied_again_on_a_reset_connection(admin):
    # assume_role (Django 4.2+) is Django's to re-apply; on older releases
    # the role must simply be gone.
    role = 'dbpool_test_role'
    if not admin.query('SELECT 1 FROM pg_roles WHERE rolname = %s', [role]):
        admin.query('CREATE ROLE %s' % role)
    assumes_role = compat.ERA in ('django42', 'django51')
    options = {'MAX_CONNS': 1}
    if assumes_role:
        options['assume_role'] = role
    seen = []
    with extra_alias('role', full_settings(**options)) as wrapper:
        for _ in range(2):
            row = query("SELECT pg_backend_pid(), current_user = '%s', "
                        "current_setting('TimeZone')" % role, 'role')
            seen.append(row + (wrapper.get_autocommit(),))
            # Undo Django's set-up; the pool and Django restore it.
            cursor = wrapper.cursor()
            cursor.execute("SET TIME ZONE 'Asia/Tokyo'")
            cursor.execute('SET ROLE %s' % role if not assumes_role else 'RESET ROLE')
            cursor.close()
            wrapper.set_autocommit(False)
            wrapper.close()
    assert seen[0] == seen[1]
    assert seen[0][1:] == (assumes_role, 'UTC', True)


@request_scope_only
def test_a_thread_that_ends_without_closing_gives_its_connection_back():
    settings_dict = full_settings(MAX_CONNS=1, POOL_TIMEOUT=10)
    with extra_alias('forgetful', settings_dict):
        # The thread queries and ends without connection.close().
        thread = threading.Thread(target=backend_pid, args=('forgetful',))
        thread.start()
        thread.join()
        # The housekeeper closes the orphan within a round; this waits for it.
        started = time.time()
        backend_pid('forgetful')
        assert time.time() - started < 5
        assert pool_of('forgetful')['discarded_leaked'] == 1


def test_a_leak_report_names_the_request_being_served(caplog):
    from django.core.signals import request_started
    caplog.set_level(logging.WARNING, logger='dbpool')
    with extra_alias('leaky', full_settings(MAX_CONNS=1, LEAK_TIMEOUT=0.05)) as wrapper:
        connect(wrapper)  # creates the pool, which starts recording requests
        wrapper.close()
        request_started.send(sender=None, environ={'REQUEST_METHOD': 'GET',
                                                   'PATH_INFO': '/reports/'})
        connect(wrapper)
        time.sleep(0.1)
        wrapper._dbpool_pool.run_housekeeping()
    reports = [r.getMessage() for r in caplog.records if 'checked out for' in r.getMessage()]
    assert len(reports) == 1
    assert 'serving GET /reports/' in reports[0]


def test_pooled_connections_get_keepalives_and_a_connect_timeout_unless_set():
    with extra_alias('tcp', full_settings(MAX_CONNS=1, keepalives_idle=45)) as wrapper:
        connect(wrapper)
        raw = wrapper.connection
        dsn = raw.dsn if hasattr(raw, 'dsn') else raw.info.dsn  # psycopg2 / psycopg 3
    assert 'connect_timeout=10' in dsn
    assert 'keepalives=1' in dsn
    assert 'keepalives_idle=45' in dsn  # the user's value wins


@request_scope_only
@pytest.mark.skipif(compat.ERA in ('django13', 'django14'),
                    reason='is_usable() arrived in Django 1.6')
def test_after_a_bare_close_the_wrapper_does_not_call_the_pools_connection_usable():
    # Django's own tests emulate a server disconnect with the private
    # _close(); the connection it leaves on the wrapper is the pool's again.
    backend_pid()
    connection._close()
    assert connection.is_usable() is False
    connection.close()
    assert backend_pid()
    assert connection.is_usable() is True


@request_scope_only
@pytest.mark.skipif(not hasattr(compat.StockDatabaseWrapper, 'close_if_health_check_failed'),
                    reason='CONN_HEALTH_CHECKS arrived in Django 4.1')
def test_a_connection_djangos_health_check_rejects_is_closed_not_lent_again():
    from unittest import mock
    first = backend_pid()
    connection.health_check_enabled = True
    connection.health_check_done = False
    with mock.patch.object(connection, 'is_usable', return_value=False):
        connection.close_if_health_check_failed()
    assert connection.connection is None
    assert pool_of('default')['discarded_' + stats.DISCARD_UNUSABLE] == 1
    assert backend_pid() != first


@request_scope_only
@pytest.mark.skipif(not HAS_THREAD_SHARING, reason='thread sharing arrived in Django 1.4')
def test_a_shared_wrapper_keeps_what_a_thread_that_ended_checked_out_through_it():
    # Django's ThreadTests.test_pass_connection_between_threads: another
    # thread connects through this thread's shared wrapper, then ends. The
    # wrapper, not that thread, holds the checkout: no leak to reclaim.
    wrapper = connections['default']
    wrapper.close()
    with thread_sharing(wrapper):
        pids = []
        thread = threading.Thread(target=lambda: pids.append(backend_pid_of(wrapper)))
        thread.start()
        thread.join()
        pool = wrapper._dbpool_pool
        for _ in range(10):  # Python 2.7 drops a thread's locals a moment after join()
            pool.run_housekeeping()
            time.sleep(0.05)
        assert pool.stats()['discarded_' + stats.DISCARD_LEAKED] == 0
        assert backend_pid_of(wrapper) == pids[0]
        wrapper.close()


def backend_pid_of(wrapper):
    return query_on(wrapper, 'SELECT pg_backend_pid()')[0]
