"""Real faults against a real PostgreSQL, through Django's connections[alias].

Every test adds its own alias (``djangocompat.extra_alias``) whose HOST/PORT
point at the server under test, at a ``tests.proxy.FaultProxy`` in front of
it, or at nothing; each alias has its own application_name, so the server's
pg_stat_activity tells its sessions apart. Only loopback is ever targeted.
Each test is bounded (under ~15 s); the long soak is benchmarks/soak.py.
"""
from __future__ import absolute_import, division, print_function

import threading
import time
import uuid

import pytest
from django.db import connections, transaction
from django.db import utils as db_utils

import dbpool
from dbpool import stats
from dbpool.errors import PoolTimeout
from dbpool.testing.pgcluster import free_port
from tests.backends.conftest import request_scope_only
from tests.backends.djangocompat import HAS_ATOMIC, close_all, connect, extra_alias
from tests.proxy import FaultProxy
from tests.support import (
    Admin, available_drivers, database, run_threads_and_watch, wait_until)


# What Django raises for a driver error on this release (Error is 1.6+).
# Django 1.3-1.5 wrap query errors but let a failed connect through from
# the driver as it is, hence the drivers' own base classes too.
DJANGO_ERRORS = tuple(getattr(db_utils, name) for name in
                      ('Error', 'DatabaseError', 'OperationalError', 'InterfaceError')
                      if hasattr(db_utils, name)) + tuple(
                          driver.Error for driver in available_drivers())


# -- helpers ----------------------------------------------------------------

def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:10])


def alias_settings(host=None, port=None, **options):
    """A complete settings dict for an extra alias (Django's defaults filled in)."""
    settings_dict = dict(connections['default'].settings_dict, OPTIONS=options)
    if host is not None:
        settings_dict['HOST'] = host
    if port is not None:
        settings_dict['PORT'] = str(port)
    return settings_dict


def query(sql, alias, params=None):
    cursor = connections[alias].cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchone()
    finally:
        cursor.close()


def backend_pid(alias):
    return query('SELECT pg_backend_pid()', alias)[0]


def pool_of(alias):
    found = [s for s in dbpool.pool_stats() if s['alias'] == alias and not s['closed']]
    assert len(found) == 1, found
    return found[0]


def in_thread(function, timeout=30):
    """Run ``function`` in its own thread (its own Django connections); its result."""
    result = []

    def run():
        try:
            result.append(function())
        finally:
            close_all()

    thread = threading.Thread(target=run)
    thread.daemon = True
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), 'the thread is still running after %s s' % timeout
    return result[0]


def timed_failure(function):
    """Run ``function``, which must raise a django.db error; (error, seconds)."""
    started = time.time()
    with pytest.raises(DJANGO_ERRORS) as raised:
        function()
    return raised.value, time.time() - started


# -- a backend killed in the middle of a query -----------------------------------

def test_a_backend_terminated_mid_query_fails_that_request_once_and_the_next_gets_a_new_one(admin):
    app = unique('dbpool-fault-kill')
    with extra_alias('killed', alias_settings(MAX_CONNS=2, MIN_CONNS=0, application_name=app)):
        seen = {'errors': [], 'close_errors': []}

        def request():
            seen['pid'] = backend_pid('killed')
            try:
                query('SELECT pg_sleep(5)', 'killed')
            except Exception as exc:
                seen['errors'].append(exc)
            try:
                connections['killed'].close()  # the end of the request
            except Exception as exc:
                seen['close_errors'].append(exc)

        thread = threading.Thread(target=lambda: (request(), close_all()))
        thread.start()
        sleeping = ("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                    "AND state = 'active' AND query LIKE 'SELECT pg_sleep(5)%%'")
        assert wait_until(lambda: admin.query(sleeping, [app])[0][0] == 1)
        started = time.time()
        assert admin.terminate(app) == 1
        thread.join(10)
        assert not thread.is_alive()
        print('\nmid-query kill: request failed after %.2f s with %s: %s' % (
            time.time() - started, type(seen['errors'][0]).__name__,
            str(seen['errors'][0]).strip().splitlines()[0]))
        assert time.time() - started < 4
        assert len(seen['errors']) == 1
        assert isinstance(seen['errors'][0], DJANGO_ERRORS)
        assert seen['close_errors'] == []
        snapshot = pool_of('killed')
        assert snapshot['discarded_' + stats.DISCARD_BROKEN] == 1
        assert (snapshot[stats.CONNECTIONS_OPEN], snapshot[stats.CONNECTIONS_OPENING]) == (0, 0)
        # The next request gets a new backend and succeeds.
        assert backend_pid('killed') != seen['pid']
        assert pool_of('killed')[stats.CONNECTIONS_CREATED] == 2


# -- connections cut while idle in the pool ----------------------------------------

@request_scope_only
@pytest.mark.parametrize('reset', [True, False], ids=['rst', 'fin'])
def test_connections_cut_while_idle_are_replaced_at_the_next_checkout_unseen(proxy, reset):
    app = unique('dbpool-fault-cut')
    settings_dict = alias_settings(port=proxy.port, MAX_CONNS=2, MIN_CONNS=0,
                                   TEST_AFTER_IDLE=None, application_name=app)
    with extra_alias('cut', settings_dict) as first:
        second = type(first)(first.settings_dict, 'cut')
        wrappers = [first, second]
        for wrapper in wrappers:
            connect(wrapper)
        old = set(wrapper._dbpool_entry.connection for wrapper in wrappers)
        old_pids = set(in_pids(wrappers))
        for wrapper in wrappers:
            wrapper.close()
        assert pool_of('cut')[stats.CONNECTIONS_IDLE] == 2
        assert proxy.cut(reset=reset) == 2
        time.sleep(0.1)  # let the RST/FIN arrive
        new_pids = set(in_pids(wrappers))  # no error
        assert len(new_pids) == 2 and not new_pids & old_pids
        for wrapper in wrappers:
            assert wrapper._dbpool_entry.connection not in old
            wrapper.close()
        snapshot = pool_of('cut')
        assert snapshot['discarded_' + stats.DISCARD_BROKEN] == 2
        assert snapshot[stats.CONNECTIONS_OPEN] == 2


def in_pids(wrappers):
    pids = []
    for wrapper in wrappers:
        cursor = wrapper.cursor()
        cursor.execute('SELECT pg_backend_pid()')
        pids.append(cursor.fetchone()[0])
        cursor.close()
    return pids


# -- a silent peer ---------------------------------------------------------------------

def test_a_new_connection_through_a_silent_peer_fails_within_connect_timeout(proxy):
    app = unique('dbpool-fault-stall')
    with extra_alias('silent', alias_settings(port=proxy.port, MAX_CONNS=1, MIN_CONNS=0,
                                              application_name=app)):
        proxy.stall()
        error, seconds = timed_failure(lambda: backend_pid('silent'))
        print('\nnew connection through a stalled proxy: %s after %.2f s: %s' % (
            type(error).__name__, seconds, str(error).strip().splitlines()[0]))
        # connect_timeout=10, set by the pool unless OPTIONS names it.
        assert 8 <= seconds <= 13
        snapshot = pool_of('silent')
        assert snapshot[stats.CONNECT_FAILURES] == 1
        assert (snapshot[stats.CONNECTIONS_OPEN], snapshot[stats.CONNECTIONS_OPENING]) == (0, 0)
        connections['silent'].close()
        proxy.resume()
        backend_pid('silent')  # the slot came back: the pool is not stuck


def _stalled_idle_checkout(proxy, alias, app, hold_s):
    """Check out a connection idle behind a stalled proxy; return (thread, result)."""
    connect(connections[alias])
    first = backend_pid(alias)
    connections[alias].close()
    time.sleep(0.4)  # idle longer than TEST_AFTER_IDLE: the checkout pings
    proxy.stall()
    result = {}

    def request():
        started = time.time()
        try:
            result['pid'] = backend_pid(alias)
        except Exception as exc:
            result['error'] = exc
        result['seconds'] = time.time() - started

    thread = threading.Thread(target=lambda: in_thread(request, timeout=hold_s + 60))
    thread.daemon = True
    thread.start()
    thread.join(hold_s)
    return first, thread, result


def test_a_ping_to_a_silent_peer_is_cut_after_ping_timeout_never_hanging_the_checkout(proxy):
    # The proxy's kernel ACKs the ping and answers keepalives, so TCP never
    # gives up; the pool's watchdog cuts the socket after PING_TIMEOUT, and
    # the replacement connection (through the same stalled proxy) fails
    # after connect_timeout: an error in bounded time, not a hang.
    app = unique('dbpool-fault-idle-stall')
    with extra_alias('idle_stall', alias_settings(port=proxy.port, MAX_CONNS=1, MIN_CONNS=0,
                                                  TEST_AFTER_IDLE=0.2, PING_TIMEOUT=1,
                                                  connect_timeout=2,
                                                  application_name=app)):
        first, thread, result = _stalled_idle_checkout(proxy, 'idle_stall', app, hold_s=10)
        assert not thread.is_alive(), 'the checkout is still blocked after 10 s'
        print('\nidle connection behind a stalled proxy: checkout failed after %.2f s: %r'
              % (result['seconds'], result.get('error')))
        assert 'error' in result
        assert 2.5 <= result['seconds'] <= 8  # PING_TIMEOUT 1 s + connect_timeout 2 s
        snapshot = pool_of('idle_stall')
        assert snapshot['discarded_' + stats.DISCARD_BROKEN] == 1
        assert snapshot[stats.CONNECTIONS_OPEN] + snapshot[stats.CONNECTIONS_OPENING] == 0
        connections['idle_stall'].close()
        proxy.resume()
        assert backend_pid('idle_stall') != first  # the pool serves again


# -- exhaustion under load ------------------------------------------------------------

def test_sixty_four_threads_on_four_connections_complete_or_time_out_cleanly(admin):
    app = unique('dbpool-fault-crowd')
    lock = threading.Lock()
    counts = {'done': 0, 'timeouts': 0, 'other': []}

    def work():
        try:
            for _ in range(5):
                try:
                    query('SELECT pg_sleep(0.02)', 'crowd')
                    outcome = 'done'
                except PoolTimeout:
                    outcome = 'timeouts'
                except Exception as exc:
                    with lock:
                        counts['other'].append(exc)
                    continue
                finally:
                    connections['crowd'].close()
                with lock:
                    counts[outcome] += 1
        finally:
            close_all()

    with extra_alias('crowd', alias_settings(MAX_CONNS=4, MIN_CONNS=0, POOL_TIMEOUT=5,
                                             application_name=app)):
        started = time.time()
        peak, errors = run_threads_and_watch(admin, app, work, threads=64)
        seconds = time.time() - started
        snapshot = pool_of('crowd')
    waited = snapshot[stats.CHECKOUTS_WAITED]
    print('\n64 threads x 5 requests on MAX_CONNS=4, POOL_TIMEOUT=5: %d done, %d PoolTimeout, '
          '%d other errors in %.2f s; peak server sessions %d; checkouts %d, waited %d, '
          'wait_ms mean %.1f max %.1f' % (
              counts['done'], counts['timeouts'], len(counts['other']), seconds, peak,
              snapshot[stats.CHECKOUTS], waited,
              snapshot[stats.WAIT_MS_TOTAL] / waited if waited else 0.0,
              snapshot[stats.WAIT_MS_MAX]))
    assert errors == [] and counts['other'] == []
    assert counts['done'] + counts['timeouts'] == 320
    assert snapshot[stats.CHECKOUT_TIMEOUTS] == counts['timeouts']
    assert 1 <= peak <= 4
    assert snapshot[stats.CONNECTIONS_CREATED] <= 4
    assert snapshot[stats.WAIT_MS_MAX] <= 5000 + 500
    assert snapshot[stats.CONNECTIONS_IN_USE] == 0 and snapshot[stats.WAITING] == 0


# -- write integrity while backends are killed ---------------------------------------

def _in_transaction(alias, function):
    if HAS_ATOMIC:
        with transaction.atomic(using=alias):
            function()
    else:  # Django 1.3-1.5
        with transaction.commit_on_success(using=alias):
            function()
            transaction.set_dirty(using=alias)


def test_commits_the_application_saw_succeed_are_kept_and_failed_ones_are_absent(admin):
    app = unique('dbpool-fault-write')
    table = 'dbpool_fault_rows_%s' % uuid.uuid4().hex[:10]
    admin.query('CREATE TABLE %s (writer int, seq int, part int, '
                'PRIMARY KEY (writer, seq, part))' % table)
    lock = threading.Lock()
    committed, failed = set(), set()
    running = threading.Event()
    running.set()
    kills = [0, 0]  # rounds, backends terminated

    def writer(number):
        def work():
            for seq in range(25):
                def insert():
                    cursor = connections['writes'].cursor()
                    for part in (0, 1):  # two rows: both or neither
                        cursor.execute('INSERT INTO %s VALUES (%%s, %%s, %%s)' % table,
                                       [number, seq, part])
                        if part == 0:  # a kill may land between the two rows
                            cursor.execute('SELECT pg_sleep(0.002)')
                    cursor.close()
                try:
                    _in_transaction('writes', insert)
                    outcome = committed
                except DJANGO_ERRORS:
                    outcome = failed
                finally:
                    try:
                        connections['writes'].close()
                    except DJANGO_ERRORS:
                        pass
                with lock:
                    outcome.add((number, seq))
        return work

    def killer():
        killer_admin = Admin()
        try:
            while running.is_set():
                kills[0] += 1
                kills[1] += killer_admin.terminate(app)
                time.sleep(0.05)
        finally:
            killer_admin.close()

    try:
        with extra_alias('writes', alias_settings(MAX_CONNS=8, MIN_CONNS=0, POOL_TIMEOUT=10,
                                                  application_name=app)):
            killing = threading.Thread(target=killer)
            killing.start()
            writers = [threading.Thread(target=lambda n=n: in_thread(writer(n)))
                       for n in range(8)]
            for thread in writers:
                thread.start()
            for thread in writers:
                thread.join(60)
            running.clear()
            killing.join(10)
            snapshot = pool_of('writes')
        rows = admin.query('SELECT writer, seq, count(*) FROM %s GROUP BY writer, seq' % table)
    finally:
        admin.query('DROP TABLE IF EXISTS %s' % table)
    present = dict(((w, s), n) for w, s, n in rows)
    print('\nwrites under kills: %d kill rounds, %d backends terminated; %d commits succeeded, '
          '%d failed; rows of successful commits present: %d/%d; rows of failed commits '
          'present: %d; pool discarded %s' % (
              kills[0], kills[1], len(committed), len(failed),
              sum(1 for key in committed if present.get(key) == 2), len(committed),
              sum(1 for key in failed if key in present),
              dict((k, v) for k, v in snapshot.items() if v and (
                  k.startswith('discarded_') or k in (
                      stats.CHECKOUTS, stats.CHECKOUTS_WAITED, stats.WAIT_MS_MAX,
                      stats.CONNECTIONS_CREATED, stats.CONNECT_FAILURES)))))
    assert len(committed) + len(failed) == 200
    assert (snapshot[stats.CONNECTIONS_IN_USE], snapshot[stats.CONNECTIONS_OPENING]) == (0, 0)
    assert kills[1] >= 1 and committed
    assert all(present.get(key) == 2 for key in committed)
    assert not [key for key in failed if key in present]
    assert set(present) <= committed | failed and set(present.values()) <= set([2])


# -- bad input ---------------------------------------------------------------------------

def test_a_wrong_password_fails_fast_and_fixed_settings_work_at_once():
    app = unique('dbpool-fault-password')
    right = database()['PASSWORD']
    settings_dict = alias_settings(MAX_CONNS=2, MIN_CONNS=0, application_name=app)
    settings_dict['PASSWORD'] = 'not-the-password'
    with extra_alias('badpass', settings_dict) as wrapper:
        error, seconds = timed_failure(lambda: backend_pid('badpass'))
        print('\nwrong password: %s after %.3f s' % (type(error).__name__, seconds))
        assert 'password authentication failed' in str(error)
        assert seconds < 10
        assert pool_of('badpass')[stats.CONNECTIONS_OPENING] == 0
        wrapper.close()
        wrapper.settings_dict['PASSWORD'] = right  # same alias, new settings: new pool
        backend_pid('badpass')
        assert pool_of('badpass')[stats.CONNECTIONS_CREATED] == 1


def test_an_unknown_host_fails_fast_and_fixed_settings_work_at_once():
    app = unique('dbpool-fault-host')
    with extra_alias('badhost', alias_settings(host='nonexistent.invalid', MAX_CONNS=2,
                                               MIN_CONNS=0, application_name=app)) as wrapper:
        error, seconds = timed_failure(lambda: backend_pid('badhost'))
        print('\nunknown host: %s after %.3f s: %s' % (
            type(error).__name__, seconds, str(error).strip().splitlines()[0]))
        assert seconds < 10
        wrapper.close()
        wrapper.settings_dict['HOST'] = database()['HOST']
        backend_pid('badhost')


def test_a_refused_port_fails_fast_and_works_once_a_server_listens_there():
    app = unique('dbpool-fault-port')
    port = free_port()
    with extra_alias('badport', alias_settings(port=port, MAX_CONNS=2, MIN_CONNS=0,
                                               application_name=app)) as wrapper:
        for _ in range(3):  # repeated failures give their slots back
            error, seconds = timed_failure(lambda: backend_pid('badport'))
            print('\nrefused port: %s after %.3f s' % (type(error).__name__, seconds))
            assert seconds < 10
            wrapper.close()
        assert 'refused' in str(error).lower() or 'connect' in str(error).lower()
        snapshot = pool_of('badport')
        assert snapshot[stats.CONNECT_FAILURES] == 3
        assert (snapshot[stats.CONNECTIONS_OPEN], snapshot[stats.CONNECTIONS_OPENING]) == (0, 0)
        # A server appears on that port (a proxy to the real one): same pool, now working.
        with FaultProxy(database()['PORT'], port=port):
            backend_pid('badport')
            wrapper.close()
            assert pool_of('badport')[stats.CONNECTIONS_CREATED] == 1
