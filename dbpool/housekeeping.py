"""One background thread that keeps every pool trimmed and filled."""
from __future__ import absolute_import, division, print_function

import logging
import threading
import weakref

from dbpool.forking import on_fork_in_child

logger = logging.getLogger('dbpool')

INTERVAL_S = 1.0

_lock = threading.Lock()
_pools = weakref.WeakSet()
_wake = threading.Event()
_thread = [None]


def watch(pool):
    """Keep ``pool`` in the housekeeping rounds (until it is collected or closed)."""
    with _lock:
        _pools.add(pool)
        if _thread[0] is None or not _thread[0].is_alive():
            thread = threading.Thread(target=_run, name='dbpool-housekeeper')
            thread.daemon = True
            thread.start()
            _thread[0] = thread
    # A new pool with MIN_CONNS should fill now, not a round later.
    _wake.set()


def _run():
    while True:
        _wake.wait(INTERVAL_S)
        _wake.clear()
        with _lock:
            pools = [pool for pool in _pools if not pool.closed]
        for pool in pools:
            try:
                pool.run_housekeeping()
            except Exception:
                logger.exception('dbpool: housekeeping of %s failed', pool.name)


def _reset_after_fork():
    # Threads do not survive fork(); the next watch() starts a new one.
    global _lock, _wake
    _lock = threading.Lock()
    _wake = threading.Event()
    _thread[0] = None
    _pools.clear()


on_fork_in_child(_reset_after_fork)
