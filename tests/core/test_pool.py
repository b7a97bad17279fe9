"""The pool contract, on a real server, for each installed driver."""
from __future__ import absolute_import, division, print_function

import os
import threading
import time

import pytest

from dbpool import stats
from dbpool.errors import PoolClosed, PoolTimeout
from tests.core.conftest import backend_pid, run_sql
from tests.support import run_in_child, run_threads_and_watch, wait_until


def test_a_returned_connection_is_reused_by_the_next_checkout(make_pool):
    pool = make_pool()
    entry = pool.checkout()
    first = backend_pid(entry.connection)
    pool.checkin(entry)
    entry = pool.checkout()
    assert backend_pid(entry.connection) == first
    pool.checkin(entry)
    assert pool.stats()[stats.CONNECTIONS_CREATED] == 1


def test_never_more_than_max_conns_are_open_under_16_threads(make_pool, admin, app_name):
    pool = make_pool(MAX_CONNS=4, POOL_TIMEOUT=30)

    def work():
        for _ in range(15):
            entry = pool.checkout()
            try:
                run_sql(entry.connection, 'SELECT pg_sleep(0.002)')
            finally:
                pool.checkin(entry)

    peak, errors = run_threads_and_watch(admin, app_name, work, threads=16)
    snapshot = pool.stats()
    assert errors == []
    assert snapshot[stats.CHECKOUTS] == 16 * 15
    assert snapshot[stats.CHECKOUTS_WAITED] > 0
    assert 1 <= peak <= 4
    assert snapshot[stats.CONNECTIONS_CREATED] <= 4


def test_checkout_times_out_with_a_message_that_says_what_to_change(make_pool):
    pool = make_pool(MAX_CONNS=1, POOL_TIMEOUT=0.3)
    held = pool.checkout()
    started = time.time()
    with pytest.raises(PoolTimeout) as raised:
        pool.checkout()
    waited = time.time() - started
    assert 0.3 <= waited < 5
    message = str(raised.value)
    assert 'waited 0.3 s' in message
    assert 'MAX_CONNS=1, 1 in use, 0 opening, 0 waiting' in message
    assert "Raise OPTIONS['MAX_CONNS'] or OPTIONS['POOL_TIMEOUT']" in message
    assert pool.stats()[stats.CHECKOUT_TIMEOUTS] == 1
    pool.checkin(held)
    # The pool is not left broken: the connection is there for the next caller.
    pool.checkin(pool.checkout())


def test_a_waiting_checkout_gets_the_connection_another_thread_returns(make_pool):
    pool = make_pool(MAX_CONNS=1, POOL_TIMEOUT=10)
    held = pool.checkout()
    held_pid = backend_pid(held.connection)
    got = []
    waiter = threading.Thread(target=lambda: got.append(pool.checkout()))
    waiter.start()
    assert wait_until(lambda: pool.stats()[stats.WAITING] == 1)
    pool.checkin(held)
    waiter.join(10)
    assert backend_pid(got[0].connection) == held_pid
    pool.checkin(got[0])
    assert pool.stats()[stats.CHECKOUTS_WAITED] == 1


def test_waiters_are_served_first_come_first_served(make_pool):
    pool = make_pool(MAX_CONNS=1, POOL_TIMEOUT=20)
    held = pool.checkout()
    order = []

    def wait_turn(number):
        entry = pool.checkout()
        order.append(number)
        pool.checkin(entry)

    threads = []
    for number in range(6):
        thread = threading.Thread(target=wait_turn, args=(number,))
        thread.start()
        threads.append(thread)
        # Queue them one at a time so arrival order is known.
        assert wait_until(lambda: pool.stats()[stats.WAITING] == number + 1)
    pool.checkin(held)
    for thread in threads:
        thread.join(20)
    assert order == list(range(6))


def test_terminated_idle_backends_are_replaced_without_an_error(make_pool, admin, app_name):
    # TEST_AFTER_IDLE off: the socket hint alone must catch the dead sessions.
    pool = make_pool(MAX_CONNS=3, TEST_AFTER_IDLE=None)
    entries = [pool.checkout() for _ in range(3)]
    old_pids = set(backend_pid(entry.connection) for entry in entries)
    for entry in entries:
        pool.checkin(entry)
    assert admin.terminate(app_name) == 3
    assert wait_until(lambda: admin.backend_pids(app_name) == [])
    entries = [pool.checkout() for _ in range(3)]
    new_pids = set(run_sql(entry.connection, 'SELECT pg_backend_pid()') for entry in entries)
    for entry in entries:
        pool.checkin(entry)
    assert not new_pids & old_pids
    assert pool.stats()['discarded_' + stats.DISCARD_BROKEN] == 3


def test_a_connection_killed_while_checked_out_is_closed_at_checkin(make_pool, admin, app_name):
    pool = make_pool(MAX_CONNS=1)
    entry = pool.checkout()
    old_pid = backend_pid(entry.connection)
    admin.terminate(app_name)
    with pytest.raises(Exception):
        run_sql(entry.connection, 'SELECT 1')
    pool.checkin(entry)
    snapshot = pool.stats()
    discarded = (snapshot['discarded_' + stats.DISCARD_BROKEN]
                 + snapshot['discarded_' + stats.DISCARD_RESET_FAILED])
    assert discarded == 1
    entry = pool.checkout()
    assert backend_pid(entry.connection) != old_pid
    pool.checkin(entry)


def test_test_on_borrow_runs_the_configured_query_at_every_checkout(make_pool):
    pool = make_pool(TEST_ON_BORROW=True, TEST_ON_BORROW_QUERY='SELECT 42')
    for _ in range(3):
        pool.checkin(pool.checkout())
    # The first checkout opened a fresh connection; the two after it were tested.
    assert pool.stats()[stats.HEALTH_CHECKS] == 2


def test_a_connection_idle_longer_than_test_after_idle_is_pinged(make_pool):
    pool = make_pool(TEST_AFTER_IDLE=0.05)
    pool.checkin(pool.checkout())
    pool.checkin(pool.checkout())
    assert pool.stats()[stats.HEALTH_CHECKS] == 0
    time.sleep(0.1)
    pool.checkin(pool.checkout())
    assert pool.stats()[stats.HEALTH_CHECKS] == 1


def test_connections_older_than_max_lifetime_are_replaced(make_pool):
    pool = make_pool(MAX_LIFETIME=0.2)
    entry = pool.checkout()
    first = backend_pid(entry.connection)
    pool.checkin(entry)
    time.sleep(0.3)
    entry = pool.checkout()
    assert backend_pid(entry.connection) != first
    pool.checkin(entry)
    assert pool.stats()['discarded_' + stats.DISCARD_LIFETIME] == 1


def test_housekeeping_closes_idle_connections_above_min_conns(make_pool, admin, app_name):
    pool = make_pool(MAX_CONNS=3, MIN_CONNS=1, IDLE_TIMEOUT=0.2)
    entries = [pool.checkout() for _ in range(3)]
    for entry in entries:
        pool.checkin(entry)
    time.sleep(0.3)
    pool.run_housekeeping()
    snapshot = pool.stats()
    assert snapshot[stats.CONNECTIONS_OPEN] == 1
    assert snapshot['discarded_' + stats.DISCARD_IDLE] == 2
    assert wait_until(lambda: len(admin.backend_pids(app_name)) == 1)


def test_housekeeping_opens_min_conns(make_pool, admin, app_name):
    pool = make_pool(MAX_CONNS=4, MIN_CONNS=2)
    pool.run_housekeeping()
    assert pool.stats()[stats.CONNECTIONS_IDLE] == 2
    assert len(admin.backend_pids(app_name)) == 2


def test_a_failed_connect_gives_its_slot_back(make_pool, driver):
    pool = make_pool(MAX_CONNS=1)
    real_connect = pool._connect
    calls = []

    def flaky_connect():
        calls.append(1)
        if len(calls) == 1:
            raise driver.OperationalError('refused on purpose')
        return real_connect()

    pool._connect = flaky_connect
    with pytest.raises(driver.OperationalError):
        pool.checkout()
    pool.checkin(pool.checkout())
    snapshot = pool.stats()
    assert snapshot[stats.CONNECT_FAILURES] == 1
    assert snapshot[stats.CONNECTIONS_OPEN] == 1


def test_close_closes_idle_connections_now_and_checked_out_ones_at_checkin(
        make_pool, admin, app_name):
    pool = make_pool(MAX_CONNS=2)
    kept, returned = pool.checkout(), pool.checkout()
    pool.checkin(returned)
    pool.close()
    assert wait_until(lambda: len(admin.backend_pids(app_name)) == 1)
    pool.checkin(kept)
    assert wait_until(lambda: admin.backend_pids(app_name) == [])
    with pytest.raises(PoolClosed):
        pool.checkout()


def test_close_wakes_waiters_with_pool_closed(make_pool):
    pool = make_pool(MAX_CONNS=1, POOL_TIMEOUT=20)
    held = pool.checkout()
    raised = []

    def wait():
        try:
            pool.checkout()
        except PoolClosed as exc:
            raised.append(exc)

    thread = threading.Thread(target=wait)
    thread.start()
    assert wait_until(lambda: pool.stats()[stats.WAITING] == 1)
    pool.close()
    thread.join(5)
    assert len(raised) == 1
    pool.checkin(held)


def test_pop_stats_hands_out_counters_and_zeroes_them(make_pool):
    pool = make_pool()
    pool.checkin(pool.checkout())
    assert pool.pop_stats()[stats.CHECKOUTS] == 1
    after = pool.stats()
    assert after[stats.CHECKOUTS] == 0
    assert after[stats.CONNECTIONS_OPEN] == 1


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork')
def test_a_forked_child_never_uses_or_closes_its_parents_connections(make_pool):
    from dbpool import registry
    factory = make_pool
    pool = registry.get_pool(('fork-test', factory.app_name), 'fork-test', factory)
    entry = pool.checkout()
    parent_pid = backend_pid(entry.connection)
    pool.checkin(entry)

    def in_child():
        child_pool = registry.get_pool(('fork-test', factory.app_name), 'fork-test', factory)
        # Returning the parent's entry here must neither reset nor close it.
        pool.checkin(entry)
        child_entry = child_pool.checkout()
        message = '%s %s' % (child_pool is not pool, backend_pid(child_entry.connection))
        child_pool.checkin(child_entry)
        child_pool.close()
        return message

    status, reply = run_in_child(in_child)
    assert status == 0
    assert not reply.startswith('error'), reply
    new_pool, child_backend = reply.split()
    assert new_pool == 'True'
    assert int(child_backend) != parent_pid
    entry = pool.checkout()
    assert run_sql(entry.connection, 'SELECT pg_backend_pid()') == parent_pid
    pool.checkin(entry)


def test_a_second_checkin_of_one_checkout_is_ignored(make_pool, caplog):
    pool = make_pool(MAX_CONNS=2)
    entry = pool.checkout()
    pool.checkin(entry)
    pool.checkin(entry)
    assert 'which is not checked out' in caplog.text
    first, second = pool.checkout(), pool.checkout()
    assert first is not second
    assert backend_pid(first.connection) != backend_pid(second.connection)
    pool.checkin(first)
    pool.checkin(second)
    assert pool.stats()[stats.CONNECTIONS_IDLE] == 2


def test_two_threads_giving_back_one_checkout_at_once_hand_it_on_once(make_pool):
    pool = make_pool(MAX_CONNS=1, RESET_ON_RETURN='full')
    for _ in range(20):
        entry = pool.checkout()
        start = threading.Event()

        def give_back():
            start.wait(5)
            pool.checkin(entry)

        threads = [threading.Thread(target=give_back) for _ in range(2)]
        for thread in threads:
            thread.start()
        start.set()
        for thread in threads:
            thread.join()
        snapshot = pool.stats()
        assert (snapshot[stats.CONNECTIONS_IDLE], snapshot[stats.CONNECTIONS_IN_USE]) == (1, 0)


def test_a_discard_after_the_checkin_is_ignored(make_pool):
    pool = make_pool(MAX_CONNS=1)
    entry = pool.checkout()
    pool.checkin(entry)
    pool.discard(entry)
    again = pool.checkout()
    assert again is entry
    assert run_sql(again.connection, 'SELECT 1') == 1
    pool.checkin(again)
    assert pool.stats()['discarded_' + stats.DISCARD_BROKEN] == 0


def test_a_checkin_that_races_the_reclaim_of_its_entry_leaves_no_closed_connection_idle(
        make_pool, monkeypatch):
    from dbpool import health, leaks
    from dbpool import pool as pool_module
    pool = make_pool(MAX_CONNS=1)
    entry = pool.checkout()
    leaks.watch_owner(pool, entry)
    pool.reclaim(entry, entry.owner_ref)  # as if the owner had ended
    warn = pool_module.logger.warning

    def checkin_meanwhile(message, *args):
        # Another thread that still held the wrapper gives the entry back
        # just as the housekeeper decided to reclaim it.
        if 'reclaimed' in message:
            pool.checkin(entry)
        warn(message, *args)

    monkeypatch.setattr(pool_module.logger, 'warning', checkin_meanwhile)
    pool.run_housekeeping()
    monkeypatch.setattr(pool_module.logger, 'warning', warn)
    idle = list(pool._idle)
    assert [health.is_closed(idle_entry.connection) for idle_entry in idle] == [False] * len(idle)
    snapshot = pool.stats()
    assert snapshot[stats.CONNECTIONS_OPEN] == len(idle)
    again = pool.checkout()
    assert run_sql(again.connection, 'SELECT 1') == 1
    pool.checkin(again)
