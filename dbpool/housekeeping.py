"""One background thread that keeps every pool trimmed and filled."""
from __future__ import absolute_import, division, print_function

import atexit
import logging
import threading
import weakref

from dbpool.forking import on_fork_in_child

logger = logging.getLogger('dbpool')

INTERVAL_S = 1.0


class Housekeeper(object):
    """Runs ``run_housekeeping()`` of each watched pool every INTERVAL_S seconds."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pools = weakref.WeakSet()
        self._wake = threading.Event()
        self._stopping = False
        self._thread = None

    def watch(self, pool):
        """Keep ``pool`` in the rounds (until it is collected or closed)."""
        with self._lock:
            self._pools.add(pool)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name='dbpool-housekeeper')
                self._thread.daemon = True
                self._thread.start()
        # A new pool with MIN_CONNS should fill now, not a round later.
        self._wake.set()

    def stop(self):
        """End the thread (at interpreter exit, before modules are torn down)."""
        self._stopping = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)

    def _run(self):
        while not self._stopping:
            self._wake.wait(INTERVAL_S)
            self._wake.clear()
            with self._lock:
                pools = [pool for pool in self._pools if not pool.closed]
            for pool in pools:
                if self._stopping:
                    return
                try:
                    pool.run_housekeeping()
                except Exception:
                    logger.exception('dbpool: housekeeping of %s failed', pool.name)


_keeper = [Housekeeper()]


def watch(pool):
    """Keep ``pool`` trimmed and filled by this process's housekeeper thread."""
    _keeper[0].watch(pool)


def _stop_at_exit():
    # Daemon threads still running while Python 2.7 clears module globals
    # die with confusing tracebacks; stop ours first.
    _keeper[0].stop()


def _new_keeper_after_fork():
    # Threads do not survive fork(); the child gets a fresh, idle keeper.
    _keeper[0] = Housekeeper()


atexit.register(_stop_at_exit)
on_fork_in_child(_new_keeper_after_fork)
