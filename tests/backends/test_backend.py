"""The pooled ENGINE as Django uses it, on a real server."""
from __future__ import absolute_import, division, print_function

import io
import logging
import os
import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection, connections, transaction

import dbpool
from dbpool import stats
from dbpool.errors import PoolTimeout
from tests.support import run_threads_and_watch


def backend_pid(alias='default'):
    with connections[alias].cursor() as cursor:
        cursor.execute('SELECT pg_backend_pid()')
        return cursor.fetchone()[0]


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
            connections.close_all()

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
        'wsgi.errors': io.StringIO(), 'wsgi.version': (1, 0), 'wsgi.multithread': True,
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
    assert admin.backend_pids('dbpool-default') == pids[:1]


def test_pool_keys_never_reach_the_driver_and_other_options_do(admin):
    pid = backend_pid()
    # application_name went to libpq; MAX_CONNS & co. would have made it fail.
    assert admin.backend_pids('dbpool-default') == [pid]
    # The shared settings dict still holds every key for the next thread.
    assert connection.settings_dict['OPTIONS']['MAX_CONNS'] == 4


def test_threads_share_one_bounded_pool(admin):
    def work():
        try:
            for _ in range(10):
                with connection.cursor() as cursor:
                    cursor.execute('SELECT pg_sleep(0.002)')
                connection.close()
        finally:
            connections.close_all()

    peak, errors = run_threads_and_watch(admin, 'dbpool-default', work, threads=16)
    assert errors == []
    assert 1 <= peak <= 4
    assert pool_of('default')[stats.CHECKOUTS] == 160


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
    assert '1 of MAX_CONNS=1 in use' in message
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
        wrapper.ensure_connection()
    message = str(raised.value)
    assert "DATABASES['broken']" in message
    for name in names:
        assert name in message


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
        with connection.cursor() as cursor:
            cursor.execute('SELECT current_database()')
            assert cursor.fetchone()[0] == 'postgres'
        connection.close()
        assert pool_of('default')['dbname'] == 'postgres'
        rows = admin.query("SELECT datname FROM pg_stat_activity "
                           "WHERE application_name = 'dbpool-default'")
        assert rows == [('postgres',)]
    finally:
        settings_dict['NAME'] = old_name


def test_a_backend_terminated_between_requests_is_replaced_unseen(admin):
    first = backend_pid()
    connection.close()
    admin.terminate('dbpool-default')
    # pg_terminate_backend only signals; "between requests" means it is done.
    deadline = time.time() + 10
    while admin.backend_pids('dbpool-default') and time.time() < deadline:
        time.sleep(0.01)
    assert backend_pid() != first
    assert pool_of('default')['discarded_' + stats.DISCARD_BROKEN] == 1


def test_maintenance_connections_bypass_the_pool(admin):
    with connection._nodb_cursor() as cursor:
        cursor.execute('SELECT current_database()')
        assert cursor.fetchone()[0] == 'postgres'
    assert all(snapshot['alias'] != '__no_db__' for snapshot in dbpool.pool_stats())


def test_the_isolation_level_option_holds_on_reused_connections():
    from django.db.backends.postgresql.psycopg_any import IsolationLevel
    connections.settings['serial'] = full_settings(
        MAX_CONNS=1, isolation_level=IsolationLevel.SERIALIZABLE)
    try:
        seen = []
        for _ in range(2):
            with transaction.atomic(using='serial'):
                with connections['serial'].cursor() as cursor:
                    cursor.execute('SELECT pg_backend_pid(), current_setting('
                                   "'transaction_isolation')")
                    seen.append(cursor.fetchone())
            connections['serial'].close()
        assert seen[0] == seen[1]
        assert seen[0][1] == 'serializable'
    finally:
        connections['serial'].close()
        del connections['serial']
        del connections.settings['serial']


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork')
def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_alone():
    parent_pid = backend_pid()  # left checked out across the fork
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            message = str(backend_pid())
            connection.close()
        except Exception as exc:
            message = 'error %r' % (exc,)
        os.write(write_end, message.encode('ascii'))
        os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    reply = os.read(read_end, 200).decode('ascii')
    os.close(read_end)
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
    try:
        for alias, settings_dict in (('secret', good), ('wrong', bad)):
            connections.settings[alias] = settings_dict
        holder = connections['secret']
        holder.ensure_connection()
        texts.append(repr(holder._dbpool_pool))
        texts.append(repr(holder._dbpool_entry))
        other = type(holder)(holder.settings_dict, 'secret')
        with pytest.raises(OperationalError) as timeout:
            other.ensure_connection()
        texts.append(str(timeout.value))
        with pytest.raises(OperationalError) as refused:
            connections['wrong'].ensure_connection()
        texts.append(str(refused.value))
        texts.append(repr(dbpool.pool_stats()))
    finally:
        for alias in ('secret', 'wrong'):
            connections[alias].close()
            del connections[alias]
            del connections.settings[alias]
    texts.extend(record.getMessage() for record in caplog.records)
    assert 'password authentication failed' in texts[3]
    for text in texts:
        assert password not in text
        assert 'Wrong-Zebra-5531' not in text


def test_django_session_set_up_is_applied_again_on_a_reset_connection(admin):
    role = 'dbpool_test_role'
    if not admin.query('SELECT 1 FROM pg_roles WHERE rolname = %s', [role]):
        admin.query('CREATE ROLE %s' % role)
    connections.settings['role'] = full_settings(MAX_CONNS=1, assume_role=role)
    seen = []
    try:
        wrapper = connections['role']
        for _ in range(2):
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid(), current_user, "
                               "current_setting('TimeZone')")
                seen.append(cursor.fetchone() + (wrapper.get_autocommit(),))
                # Undo all of Django's set-up; the pool and Django restore it.
                cursor.execute("SET TIME ZONE 'Asia/Tokyo'")
                cursor.execute('RESET ROLE')
            wrapper.set_autocommit(False)
            wrapper.close()
    finally:
        connections['role'].close()
        del connections['role']
        del connections.settings['role']
    assert seen[0] == seen[1]
    assert seen[0][1:] == (role, 'UTC', True)
