"""An exception that is not an Exception, raised at the worst moment, leaves the pool whole.

gevent's Timeout and GreenletExit, KeyboardInterrupt and a signal handler's
exception derive from BaseException only. Wherever one interrupts a
checkout or a checkin (waiting, connecting, pinging, resetting), the pool
must still serve afterwards: no ghost waiter, no slot kept, no connection
"in use" with nobody to give it back.
"""
from __future__ import absolute_import, division, print_function

import threading

import pytest

from dbpool import health, stats
from tests.core.conftest import run_sql
from tests.support import wait_until


# threading.Event is a factory function on Python 2.7.
EVENT = type(threading.Event())


class Interrupt(BaseException):
    """Stands for gevent.Timeout, GreenletExit or KeyboardInterrupt."""


def serves_again(pool):
    entry = pool.checkout(timeout=2)
    try:
        return run_sql(entry.connection, 'SELECT 1') == 1
    finally:
        pool.checkin(entry)


def interrupt_during(monkeypatch, owner, name):
    """Make ``owner.name`` raise Interrupt once, then behave as before."""
    original = getattr(owner, name)
    state = {'armed': True}

    def interrupted(*args, **kwargs):
        if state['armed']:
            state['armed'] = False
            raise Interrupt()
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, interrupted)


def test_a_wait_interrupted_leaves_no_ghost_waiter_behind(make_pool):
    pool = make_pool(MAX_CONNS=1)
    held = pool.checkout()
    interrupted = []

    def wait():
        # Event.wait raises as gevent's Timeout would in a greenlet.
        original = EVENT.wait

        def wait_then_interrupt(event, timeout=None):
            original(event, 0.05)
            raise Interrupt()

        EVENT.wait = wait_then_interrupt
        try:
            pool.checkout()
        except Interrupt:
            interrupted.append(True)
        finally:
            EVENT.wait = original

    thread = threading.Thread(target=wait)
    thread.start()
    thread.join()
    assert interrupted == [True]
    assert pool.stats()[stats.WAITING] == 0
    pool.checkin(held)
    assert pool.stats()[stats.CONNECTIONS_IDLE] == 1
    assert serves_again(pool)


def test_a_waiter_interrupted_after_being_served_passes_the_connection_on(make_pool):
    pool = make_pool(MAX_CONNS=1)
    held = pool.checkout()
    outcome = []
    waiting = threading.Event()
    original = EVENT.wait

    def served_then_interrupted(event, timeout=None):
        if threading.current_thread().name != 'late-waiter':
            return original(event, timeout)
        waiting.set()
        original(event, timeout)  # served by the checkin below
        raise Interrupt()

    def wait():
        try:
            pool.checkout()
        except Interrupt:
            outcome.append('interrupted')

    EVENT.wait = served_then_interrupted
    try:
        thread = threading.Thread(target=wait, name='late-waiter')
        thread.start()
        original(waiting, 5)
        pool.checkin(held)
        thread.join()
    finally:
        EVENT.wait = original
    assert outcome == ['interrupted']
    snapshot = pool.stats()
    assert (snapshot[stats.CONNECTIONS_IN_USE], snapshot[stats.CONNECTIONS_IDLE]) == (0, 1)
    assert serves_again(pool)


def test_a_connect_interrupted_gives_its_slot_back(make_pool, monkeypatch):
    pool = make_pool(MAX_CONNS=1)
    interrupt_during(monkeypatch, pool, '_connect')
    with pytest.raises(Interrupt):
        pool.checkout()
    assert pool.stats()[stats.CONNECTIONS_OPENING] == 0
    assert serves_again(pool)


def test_a_connection_interrupted_while_being_set_up_is_closed_and_its_slot_freed(
        make_pool, monkeypatch, admin, app_name):
    pool = make_pool(MAX_CONNS=1)
    # After the server accepted it: the new connection must not be left open.
    interrupt_during(monkeypatch, health, 'watch_connection')
    with pytest.raises(Interrupt):
        pool.checkout()
    assert pool.stats()[stats.CONNECTIONS_OPENING] == 0
    assert wait_until(lambda: admin.backend_pids(app_name) == [])
    assert serves_again(pool)


def test_a_ping_interrupted_at_checkout_frees_the_connection_and_its_slot(
        make_pool, monkeypatch):
    pool = make_pool(MAX_CONNS=1, TEST_ON_BORROW=True)
    pool.checkin(pool.checkout())
    interrupt_during(monkeypatch, health, 'ping')
    with pytest.raises(Interrupt):
        pool.checkout()
    snapshot = pool.stats()
    assert (snapshot[stats.CONNECTIONS_IN_USE], snapshot[stats.CONNECTIONS_OPEN]) == (0, 0)
    assert serves_again(pool)


@pytest.mark.parametrize('reset', ['auto', 'full', 'rollback'])
def test_a_reset_interrupted_at_checkin_frees_the_connection_and_its_slot(
        make_pool, monkeypatch, reset):
    pool = make_pool(MAX_CONNS=1, RESET_ON_RETURN=reset)
    entry = pool.checkout()
    run_sql(entry.connection, 'SET statement_timeout = 1234')  # so 'auto' resets too
    interrupt_during(monkeypatch, health, 'reset')
    with pytest.raises(Interrupt):
        pool.checkin(entry)
    snapshot = pool.stats()
    assert (snapshot[stats.CONNECTIONS_IN_USE], snapshot[stats.CONNECTIONS_OPEN]) == (0, 0)
    assert snapshot['discarded_' + stats.DISCARD_RESET_FAILED] == 1
    assert serves_again(pool)
