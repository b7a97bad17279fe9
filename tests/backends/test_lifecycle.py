"""warm_up() and drain() for Django's aliases, and HEALTH_CHECK beside CONN_HEALTH_CHECKS."""
from __future__ import absolute_import, division, print_function

import logging
import threading
import time
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from dbpool import registry, stats
from dbpool.db import lifecycle
from dbpool.db.errors import OperationalError, PoolClosed, PoolDrained
from dbpool.testing.pgcluster import free_port
from tests.backends.conftest import request_scope_only
from tests.backends.djangocompat import connect, extra_alias
from tests.support import wait_until

HEALTH_CHECKS = []  # the backend pids recording_check saw


def recording_check(connection):
    """A HEALTH_CHECK by dotted path: notes the session it checked."""
    cursor = connection.cursor()
    try:
        cursor.execute('SELECT pg_backend_pid()')
        HEALTH_CHECKS.append(cursor.fetchone()[0])
    finally:
        cursor.close()
    return True


@pytest.fixture
def app_name():
    return 'dbpool-life-%s' % uuid.uuid4().hex[:10]


def pooled(app_name, **options):
    """A complete settings dict (Django's defaults filled in) of a pooled alias."""
    values = dict(MAX_CONNS=4, MIN_CONNS=0, POOL_TIMEOUT=3, application_name=app_name)
    values.update(options)
    # Django's defaults as the default alias has them filled in; the keys
    # these tests depend on set here, whatever another test left there.
    return dict(connections['default'].settings_dict, OPTIONS=values, CONN_MAX_AGE=0,
                CONN_HEALTH_CHECKS=False, AUTOCOMMIT=True, ATOMIC_REQUESTS=False)


def backend_pid_of(wrapper):
    cursor = wrapper.cursor()
    try:
        cursor.execute('SELECT pg_backend_pid()')
        return cursor.fetchone()[0]
    finally:
        cursor.close()


def pool_stats_of(alias):
    return [snapshot for snapshot in registry.pool_stats() if snapshot['alias'] == alias][0]


# -- warm_up() ----------------------------------------------------------------------

def test_warm_up_creates_the_pool_and_opens_min_conns_before_any_request(admin, app_name):
    with extra_alias('warm', pooled(app_name, MIN_CONNS=3)) as wrapper:
        assert admin.backend_pids(app_name) == []
        assert lifecycle.warm_up(['warm']) == {'warm': 3}
        warmed = admin.backend_pids(app_name)
        assert len(warmed) == 3
        assert wrapper.connection is None  # given back: nothing held by this thread
        assert backend_pid_of(wrapper) in warmed
        assert pool_stats_of('warm')[stats.CONNECTIONS_CREATED] == 3


def test_warm_up_without_waiting_opens_them_in_a_background_thread(admin, app_name):
    with extra_alias('warm', pooled(app_name, MIN_CONNS=2)):
        thread = lifecycle.warm_up(['warm'], wait=False)
        assert isinstance(thread, threading.Thread)
        thread.join(30)
        assert wait_until(lambda: len(admin.backend_pids(app_name)) == 2)


def test_warm_up_does_nothing_in_a_process_declared_a_prefork_master(admin, app_name):
    with extra_alias('warm', pooled(app_name, MIN_CONNS=2)):
        registry.forks_workers()
        try:
            assert lifecycle.warm_up(['warm']) == {}
        finally:
            registry._forking_parent[0] = False
        assert admin.backend_pids(app_name) == []
        assert [s for s in registry.pool_stats() if s['alias'] == 'warm'] == []


def test_warm_up_logs_and_carries_on_when_the_database_cannot_be_reached(caplog, app_name):
    unreachable = pooled(app_name, MIN_CONNS=2, connect_timeout=2)
    unreachable.update(HOST='127.0.0.1', PORT=str(free_port()))
    with extra_alias('unreachable', unreachable):
        with caplog.at_level(logging.WARNING, logger='dbpool'):
            assert lifecycle.warm_up(['unreachable']) == {'unreachable': 0}
    assert any('warm_up() could not open connections for alias unreachable' in r.getMessage()
               for r in caplog.records)


def test_warm_up_skips_aliases_of_other_engines(app_name):
    stock = dict(connections['default'].settings_dict, OPTIONS={},
                 ENGINE='django.db.backends.postgresql_psycopg2')
    with extra_alias('stock', stock):
        assert lifecycle.pooled_aliases(['stock', 'default']) == ['default']


# -- drain() ------------------------------------------------------------------------

@request_scope_only
def test_drain_gives_back_this_threads_connection_and_closes_every_session(admin, app_name):
    with extra_alias('drained', pooled(app_name)) as wrapper:
        backend_pid_of(wrapper)
        assert wrapper.connection is not None
        assert lifecycle.drain(['drained'], timeout=5) == 0
        assert wrapper.connection is None
        assert wait_until(lambda: admin.backend_pids(app_name) == [])


def test_a_query_after_the_drain_fails_at_once_with_an_operational_error_naming_it(app_name):
    with extra_alias('drained', pooled(app_name, POOL_TIMEOUT=3)) as wrapper:
        backend_pid_of(wrapper)
        lifecycle.drain(['drained'], timeout=5)
        started = time.time()
        with pytest.raises(PoolDrained) as raised:
            connect(wrapper)
        assert time.time() - started < 2  # not POOL_TIMEOUT spent looking for a successor
    assert isinstance(raised.value, OperationalError)
    assert isinstance(raised.value, PoolClosed)
    assert "pool for alias 'drained'" in str(raised.value)
    assert 'drained' in str(raised.value) and 'shutting down' in str(raised.value)


@request_scope_only
def test_draining_some_aliases_leaves_the_others_lending(app_name):
    with extra_alias('drained', pooled(app_name)) as drained:
        with extra_alias('kept', pooled(app_name)) as kept:
            backend_pid_of(drained)
            backend_pid_of(kept)
            lifecycle.drain(['drained'], timeout=5)
            assert kept.connection is not None  # not this drain's alias: still held
            kept.close()
            assert backend_pid_of(kept)
            with pytest.raises(PoolDrained):
                connect(drained)


def test_drain_waits_for_a_connection_another_thread_still_uses(admin, app_name):
    with extra_alias('drained', pooled(app_name)):
        busy = threading.Event()
        finished = []

        def request():
            wrapper = connections['drained']
            cursor = wrapper.cursor()
            cursor.execute('SELECT 1')
            busy.set()
            cursor.execute('SELECT pg_sleep(0.5)')
            cursor.close()
            finished.append(True)
            wrapper.close()

        thread = threading.Thread(target=request)
        thread.start()
        assert busy.wait(10)
        assert lifecycle.drain(['drained'], timeout=10) == 0
        thread.join()
        assert finished == [True]
        assert wait_until(lambda: admin.backend_pids(app_name) == [])


# -- HEALTH_CHECK -------------------------------------------------------------------

def test_a_health_check_given_as_a_dotted_path_is_imported_and_run(app_name):
    del HEALTH_CHECKS[:]
    options = dict(TEST_ON_BORROW=True,
                   HEALTH_CHECK='tests.backends.test_lifecycle.recording_check')
    with extra_alias('hc_checked', pooled(app_name, **options)) as wrapper:
        first = backend_pid_of(wrapper)
        wrapper.close()
        assert backend_pid_of(wrapper) == first
        wrapper.close()
    assert HEALTH_CHECKS == [first]


def test_a_health_check_path_that_cannot_be_imported_is_improperly_configured(app_name):
    options = dict(HEALTH_CHECK='tests.backends.test_lifecycle.no_such_check')
    with extra_alias('hc_checked', pooled(app_name, **options)) as wrapper:
        with pytest.raises(ImproperlyConfigured) as raised:
            connect(wrapper)
    assert "HEALTH_CHECK='tests.backends.test_lifecycle.no_such_check'" in str(raised.value)
    assert "DATABASES['hc_checked']['OPTIONS']" in str(raised.value)


@request_scope_only
@pytest.mark.skipif(not hasattr(connections['default'], 'close_if_health_check_failed'),
                    reason='CONN_HEALTH_CHECKS arrived in Django 4.1')
def test_the_health_check_and_djangos_conn_health_checks_both_run_without_crashing(app_name):
    # Django's own pool is reported to fail on this combination (Trac #37075). Here
    # CONN_HEALTH_CHECKS makes the pool check every checkout (with the
    # user's HEALTH_CHECK), and Django's is_usable() still runs where
    # Django calls it: after a failed query, at the request's end.
    from unittest import mock
    from django.db import DatabaseError, close_old_connections
    del HEALTH_CHECKS[:]
    settings_dict = pooled(app_name, HEALTH_CHECK='tests.backends.test_lifecycle.recording_check')
    settings_dict['CONN_HEALTH_CHECKS'] = True
    with extra_alias('hc_both', settings_dict) as wrapper:
        pids = []
        with mock.patch.object(type(wrapper), 'is_usable', autospec=True,
                               side_effect=type(wrapper).is_usable) as is_usable:
            for _ in range(3):  # three requests
                close_old_connections()  # request_started
                pids.append(backend_pid_of(wrapper))
                with pytest.raises(DatabaseError):
                    cursor = wrapper.cursor()
                    try:
                        cursor.execute('SELECT no_such_column')  # not a DataError: Django checks
                    finally:
                        cursor.close()
                close_old_connections()  # request_finished: Django checks, then closes
                assert wrapper.connection is None
        assert is_usable.call_count == 3
        assert len(set(pids)) == 1  # one session, found healthy each time
        assert HEALTH_CHECKS == pids[1:]  # the pool's check at each reuse
        snapshot = pool_stats_of('hc_both')
        assert snapshot[stats.HEALTH_CHECK_FAILURES] == 0
        assert snapshot['discarded_' + stats.DISCARD_UNUSABLE] == 0
