"""Connections that are not given back: reported, and reclaimed from dead borrowers."""
from __future__ import absolute_import, division, print_function

import logging
import threading
import time

from dbpool import leaks, stats
from tests.support import wait_until


def test_a_checkout_held_past_leak_timeout_is_reported_with_its_stack(make_pool, caplog):
    caplog.set_level(logging.INFO, logger='dbpool')
    pool = make_pool(LEAK_TIMEOUT=0.1)
    entry = pool.checkout(describe=lambda: 'serving GET /slow/')
    time.sleep(0.2)
    pool.run_housekeeping()
    pool.run_housekeeping()  # reported once, not every round
    assert pool.stats()[stats.LEAKS_REPORTED] == 1
    report = [r.getMessage() for r in caplog.records if 'checked out for' in r.getMessage()]
    assert len(report) == 1
    assert 'LEAK_TIMEOUT=0.1' in report[0]
    assert 'serving GET /slow/' in report[0]
    # The stack names the function that checked the connection out.
    assert 'test_a_checkout_held_past_leak_timeout_is_reported_with_its_stack' in report[0]
    pool.checkin(entry)
    assert any('got back a connection reported as leaked' in r.getMessage()
               for r in caplog.records)
    # A slow borrower is only reported: its connection was kept.
    assert pool.stats()[stats.CONNECTIONS_IDLE] == 1


def test_without_leak_timeout_nothing_is_recorded_or_reported(make_pool):
    pool = make_pool()
    entry = pool.checkout(describe=lambda: 1 / 0)  # never called
    pool.run_housekeeping()
    assert entry.borrower is None
    assert pool.stats()[stats.LEAKS_REPORTED] == 0
    pool.checkin(entry)


def test_a_thread_that_ends_holding_a_checkout_has_it_reclaimed(make_pool):
    pool = make_pool(MAX_CONNS=1)

    def borrow_and_vanish():
        leaks.watch_owner(pool, pool.checkout())

    thread = threading.Thread(target=borrow_and_vanish)
    thread.start()
    thread.join()

    def reclaimed():
        # No gc.collect(): the thread's state goes with it (on 2.7 a moment
        # after join() returns), and a housekeeping round does the rest.
        pool.run_housekeeping()
        return pool.stats()['discarded_' + stats.DISCARD_LEAKED] == 1

    assert wait_until(reclaimed, 5)
    snapshot = pool.stats()
    assert snapshot[stats.CONNECTIONS_IN_USE] == 0
    pool.checkin(pool.checkout(timeout=1))


def test_a_returned_connection_is_not_reclaimed_when_its_thread_ends(make_pool):
    pool = make_pool(MAX_CONNS=1)

    def borrow_and_return():
        entry = pool.checkout()
        leaks.watch_owner(pool, entry)
        pool.checkin(entry)

    thread = threading.Thread(target=borrow_and_return)
    thread.start()
    thread.join()
    pool.run_housekeeping()
    snapshot = pool.stats()
    assert snapshot['discarded_' + stats.DISCARD_LEAKED] == 0
    assert snapshot[stats.CONNECTIONS_IDLE] == 1


def test_a_checkout_given_back_and_borrowed_again_is_not_reclaimed_late(make_pool):
    # Django's ThreadTests do this: a thread borrows and ends, the main
    # thread closes that thread's wrapper (a checkin) and borrows the same
    # connection before the housekeeper has handled the dead borrower.
    pool = make_pool(MAX_CONNS=1)
    held = []

    def borrow_and_vanish():
        entry = pool.checkout()
        leaks.watch_owner(pool, entry)
        held.append(entry)

    thread = threading.Thread(target=borrow_and_vanish)
    thread.start()
    thread.join()
    assert wait_until(lambda: len(pool._reclaimed) == 1, 5)
    pool.checkin(held[0])
    again = pool.checkout(timeout=1)
    leaks.watch_owner(pool, again)
    assert again is held[0]
    pool.run_housekeeping()
    assert pool.stats()['discarded_' + stats.DISCARD_LEAKED] == 0
    assert not again.connection.closed
    pool.checkin(again)
