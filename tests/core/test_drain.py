"""Draining a pool at shutdown, filling it at start, and the goodbye the server sees."""
from __future__ import absolute_import, division, print_function

import os
import subprocess
import sys
import threading
import time

import pytest

from dbpool import leaks, registry, stats
from dbpool.errors import PoolClosed, PoolDrained
from tests import server_log
from tests.core.conftest import PoolFactory, backend_pid, run_sql
from tests.support import connect_kwargs, run_in_child, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def give_back_later(pool, entry, delay):
    """Check ``entry`` in from another thread after ``delay`` seconds; the thread."""
    def later():
        time.sleep(delay)
        pool.checkin(entry)
    thread = threading.Thread(target=later)
    thread.start()
    return thread


# -- Drain --------------------------------------------------------------------

def test_a_drained_pool_refuses_checkouts_saying_it_was_drained(make_pool):
    pool = make_pool()
    pool.checkin(pool.checkout())
    assert pool.drain(timeout=1) == 0
    with pytest.raises(PoolDrained) as raised:
        pool.checkout()
    assert isinstance(raised.value, PoolClosed)
    assert 'drained' in str(raised.value)
    assert 'lends no more connections' in str(raised.value)
    assert pool.drained and pool.closed


def test_drain_closes_idle_connections_at_once(make_pool, admin, app_name):
    pool = make_pool(MAX_CONNS=3)
    entries = [pool.checkout() for _ in range(3)]
    for entry in entries:
        pool.checkin(entry)
    assert len(admin.backend_pids(app_name)) == 3
    assert pool.drain(timeout=1) == 0
    assert pool.stats()[stats.CONNECTIONS_OPEN] == 0
    assert wait_until(lambda: admin.backend_pids(app_name) == [])


def test_drain_waits_for_a_checked_out_connection_and_closes_it_when_it_comes_back(
        make_pool, admin, app_name):
    pool = make_pool()
    entry = pool.checkout()
    run_sql(entry.connection, 'SELECT 1')
    giver = give_back_later(pool, entry, 0.3)
    started = time.time()
    out = pool.drain(timeout=10)
    waited = time.time() - started
    giver.join()
    assert out == 0
    assert 0.25 <= waited < 5
    snapshot = pool.stats()
    assert snapshot[stats.CONNECTIONS_OPEN] == 0
    assert snapshot['discarded_' + stats.DISCARD_RETIRED] == 1
    assert wait_until(lambda: admin.backend_pids(app_name) == [])


def test_drain_gives_up_after_its_timeout_and_leaves_the_borrowers_connection_alone(
        make_pool, admin, app_name):
    pool = make_pool()
    entry = pool.checkout()
    started = time.time()
    assert pool.drain(timeout=0.2) == 1
    assert time.time() - started < 5
    # Still the borrower's, and working: never closed under it.
    assert run_sql(entry.connection, 'SELECT 41 + 1') == 42
    pool.checkin(entry)
    assert pool.stats()[stats.CONNECTIONS_OPEN] == 0
    assert wait_until(lambda: admin.backend_pids(app_name) == [])


def test_a_checkout_waiting_when_the_drain_starts_is_refused(make_pool):
    pool = make_pool(MAX_CONNS=1, POOL_TIMEOUT=10)
    held = pool.checkout()
    raised = []

    def wait_for_one():
        try:
            pool.checkout()
        except PoolDrained as exc:
            raised.append(exc)

    waiter = threading.Thread(target=wait_for_one)
    waiter.start()
    assert wait_until(lambda: pool.stats()[stats.WAITING] == 1)
    giver = give_back_later(pool, held, 0.2)
    assert pool.drain(timeout=5) == 0
    waiter.join(5)
    giver.join()
    assert len(raised) == 1
    assert 'drained while waiting' in str(raised[0])


def test_drain_closes_a_connection_whose_borrower_ended_without_giving_it_back(
        make_pool, admin, app_name):
    pool = make_pool()
    lost = []

    def borrow_and_end():
        # As the Django layer checks out: the thread's end queues the entry
        # for reclaiming (dbpool.leaks).
        entry = pool.checkout()
        leaks.watch_owner(pool, entry)
        lost.append(entry)

    thread = threading.Thread(target=borrow_and_end)
    thread.start()
    thread.join()
    started = time.time()
    assert pool.drain(timeout=5) == 0
    assert time.time() - started < 2
    assert pool.stats()['discarded_' + stats.DISCARD_LEAKED] == 1
    assert wait_until(lambda: admin.backend_pids(app_name) == [])


def test_drain_pools_stops_every_pool_before_waiting_for_any(make_pool):
    first = registry.get_pool(('drain', 1), 'drain-1', make_pool)
    second = registry.get_pool(('drain', 2), 'drain-2', make_pool)
    held_first, held_second = first.checkout(), second.checkout()
    refused = []

    def try_second():
        # While the drain waits for the first pool's connection.
        time.sleep(0.1)
        try:
            second.checkout()
        except PoolDrained:
            refused.append(True)

    probe = threading.Thread(target=try_second)
    probe.start()
    givers = [give_back_later(first, held_first, 0.3), give_back_later(second, held_second, 0.3)]
    assert registry.drain_pools(timeout=5) == 0
    probe.join()
    for giver in givers:
        giver.join()
    assert refused == [True]
    # Still registered: a lookup meets the drain, not a new pool.
    assert registry.get_pool(('drain', 1), 'drain-1', make_pool) is first
    with pytest.raises(PoolDrained):
        first.checkout()


# -- Warm start -------------------------------------------------------------------

def test_fill_opens_min_conns_in_the_calling_thread(make_pool, admin, app_name):
    pool = make_pool(MAX_CONNS=4, MIN_CONNS=3)
    assert admin.backend_pids(app_name) == []
    assert pool.fill() == 3
    assert len(admin.backend_pids(app_name)) == 3
    assert pool.stats()[stats.CONNECTIONS_IDLE] == 3
    assert pool.fill() == 0  # already at MIN_CONNS


def test_fill_stops_at_the_first_connection_it_cannot_open(driver, app_name):
    factory = PoolFactory(driver, app_name)
    good_connect = factory.connect
    calls = []

    def failing_after_one():
        calls.append(1)
        if len(calls) > 1:
            raise driver.OperationalError('the server is full')
        return good_connect()

    factory.connect = failing_after_one
    pool = factory(MAX_CONNS=4, MIN_CONNS=3)
    try:
        assert pool.fill() == 1
        assert len(calls) == 2
        assert pool.stats()[stats.CONNECT_FAILURES] == 1
    finally:
        factory.close()


def test_a_process_declared_a_prefork_master_forgets_that_in_its_children():
    registry.forks_workers()
    try:
        assert registry.will_fork()
        status, reply = run_in_child(lambda: 'will_fork=%s' % registry.will_fork())
        assert status == 0
        assert reply == 'will_fork=False'
        assert registry.will_fork()
    finally:
        registry._forking_parent[0] = False


# -- The goodbye, as the server logs it --------------------------------------------

@pytest.fixture(scope='module')
def logging_cluster():
    cluster = server_log.start_logging_cluster()
    yield cluster
    cluster.destroy()


def test_the_server_log_shows_a_session_that_ended_without_a_goodbye(
        logging_cluster, driver, app_name):
    # The detector the tests below rely on: a process that exits holding a
    # connection leaves its socket to the kernel, and the server logs it.
    kept = []

    def open_and_exit():
        connection = driver.connect(**connect_kwargs(logging_cluster.settings(), app_name))
        connection.autocommit = True  # an idle session: the server logs it at DEBUG1 only
        backend_pid(connection)
        kept.append(connection)  # not collected (which would close it) before the exit
        return 'opened'
    status, reply = run_in_child(open_and_exit)
    assert reply == 'opened'
    assert server_log.wait_for_disconnections(logging_cluster, app_name, 1) == 1
    assert len(server_log.goodbye_problems(logging_cluster, app_name)) == 1


def test_a_drained_pool_ends_every_session_with_a_goodbye(logging_cluster, driver, app_name):
    factory = PoolFactory(driver, app_name, settings_dict=logging_cluster.settings())
    pool = factory(MAX_CONNS=4)
    try:
        entries = [pool.checkout() for _ in range(4)]
        for entry in entries:
            run_sql(entry.connection, 'SELECT 1')
        for entry in entries[:2]:
            pool.checkin(entry)
        # One in a transaction, handed back during the drain.
        run_sql(entries[2].connection, 'BEGIN')
        givers = [give_back_later(pool, entry, 0.2) for entry in entries[2:]]
        assert pool.drain(timeout=5) == 0
        for giver in givers:
            giver.join()
    finally:
        factory.close()
    assert server_log.wait_for_disconnections(logging_cluster, app_name, 4) == 4
    assert server_log.goodbye_problems(logging_cluster, app_name) == []


CHILD_AT_EXIT = r'''
import json, os, sys
sys.path.insert(0, os.getcwd())
from dbpool import registry
from tests.core.conftest import PoolFactory
from tests.support import available_drivers
factory = PoolFactory(available_drivers()[0], os.environ['DBPOOL_TEST_APP'],
                      settings_dict=json.loads(os.environ['DBPOOL_TEST_SETTINGS']))
pool = registry.get_pool(('at-exit',), 'at-exit', lambda: factory(MAX_CONNS=3))
entries = [pool.checkout() for _ in range(3)]
for entry in entries:
    pool.checkin(entry)
'''


def test_idle_connections_end_with_a_goodbye_at_interpreter_exit(logging_cluster, app_name):
    import json
    env = dict(os.environ, DBPOOL_TEST_SETTINGS=json.dumps(logging_cluster.settings()),
               DBPOOL_TEST_APP=app_name)
    subprocess.check_call([sys.executable, '-c', CHILD_AT_EXIT], env=env, cwd=ROOT)
    assert server_log.wait_for_disconnections(logging_cluster, app_name, 3) == 3
    assert server_log.goodbye_problems(logging_cluster, app_name) == []
