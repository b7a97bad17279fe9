"""The background refill to MIN_CONNS: a server that refuses for a while costs no slot."""
from __future__ import absolute_import, division, print_function

import threading
import time

from dbpool import housekeeping, stats
from tests.core.conftest import run_sql
from tests.support import run_threads_and_watch, wait_until


class RefusingFor(object):
    """A connect() that fails like a server that is down, for ``seconds``, then connects."""

    def __init__(self, connect, seconds):
        self.connect = connect
        self.until = time.time() + seconds
        self.refused = 0

    def __call__(self):
        if time.time() < self.until:
            self.refused += 1
            raise self.error()
        return self.connect()

    def error(self):
        return RuntimeError('connection refused (the server is starting up)')


def test_a_refill_that_fails_while_the_server_refuses_loses_no_slot(
        make_pool, admin, app_name):
    pool = make_pool(MAX_CONNS=4, MIN_CONNS=4)
    refusing = RefusingFor(make_pool.connect, 2.0)
    pool._connect = refusing
    housekeeping.watch(pool)
    assert wait_until(lambda: pool.stats()[stats.CONNECTIONS_IDLE] == 4, timeout=15)
    assert refusing.refused > 0
    assert pool.stats()[stats.CONNECTIONS_OPENING] == 0

    barrier = threading.Barrier(4) if hasattr(threading, 'Barrier') else None

    def work():
        entry = pool.checkout(timeout=5)
        try:
            if barrier is not None:
                barrier.wait(5)
            run_sql(entry.connection, 'SELECT pg_sleep(0.2)')
        finally:
            pool.checkin(entry)

    peak, errors = run_threads_and_watch(admin, app_name, work, threads=4)
    assert errors == []
    assert peak == 4


def test_closing_a_pool_during_a_failing_refill_does_not_wait(make_pool):
    pool = make_pool(MAX_CONNS=4, MIN_CONNS=4)
    pool._connect = RefusingFor(make_pool.connect, 60.0)
    pool.run_housekeeping()  # fails at the first connection
    assert pool.stats()[stats.CONNECTIONS_OPENING] == 0
    started = time.time()
    pool.close()
    assert time.time() - started < 1.0
