"""Deadlines for the pool's own round trips: cut the socket of one that overruns.

libpq waits for an answer without a deadline. A peer that is alive to TCP
but never answers (a stalled proxy, a frozen server) keeps it waiting for
good: keepalive probes are answered and nothing is left unacknowledged, so
the kernel never gives up. The pool's own round trips, the health check at
checkout and the reset at checkin, must not hang a request, so each runs
under a deadline (PING_TIMEOUT). When it passes, one watchdog thread shuts
the socket down; libpq's wait then fails at once, and the pool replaces
the connection.
"""
from __future__ import absolute_import, division, print_function

import atexit
import socket
import threading

from dbpool.forking import on_fork_in_child
from dbpool.pycompat import monotonic


class Watchdog(object):
    """Shuts down the socket of every armed operation that outlives its deadline."""

    def __init__(self):
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._deadlines = {}      # token -> (deadline, fd)
        self._next_wake = None    # when the thread wakes next (None: when notified)
        self._armed = False       # arm() was called since the thread last woke
        self._last_seconds = None
        self._thread = None
        self._stopped = False

    def arm(self, connection, seconds):
        """Start the clock on ``connection``; returns a token for disarm()."""
        if seconds is None:
            return None
        token = object()
        deadline = monotonic() + seconds
        with self._lock:
            self._deadlines[token] = (deadline, connection.fileno())
            self._armed = True
            self._last_seconds = seconds
            self._ensure_thread()
            # Deadlines all have the same length, so a new one is nearly
            # always later than the time the thread wakes anyway: no wake-up,
            # which would cost a thread switch on every checkin.
            if self._next_wake is None or deadline < self._next_wake:
                self._changed.notify()
        return token

    def disarm(self, token):
        """The operation finished in time."""
        if token is not None:
            with self._lock:
                self._deadlines.pop(token, None)

    def stop(self):
        """End the thread (at interpreter exit); arming afterwards starts none."""
        with self._lock:
            self._stopped = True
            self._changed.notify()
            thread = self._thread
        if thread is not None:
            thread.join(1.0)

    def _ensure_thread(self):
        # Lock held.
        if self._stopped:
            return
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name='dbpool-watchdog')
            self._thread.daemon = True
            self._thread.start()

    def _run(self):
        with self._lock:
            while not self._stopped:
                now = monotonic()
                for token, (deadline, fd) in list(self._deadlines.items()):
                    if deadline <= now:
                        del self._deadlines[token]
                        _shut_down(fd)
                if self._deadlines:
                    self._next_wake = min(deadline for deadline, _ in self._deadlines.values())
                elif self._armed:
                    # Operations came and went since the last wake: more are
                    # coming. Wake one deadline's length from now rather than
                    # be notified (woken) by the next arm().
                    self._next_wake = now + self._last_seconds
                else:
                    self._next_wake = None  # idle: sleep until arm() notifies
                self._armed = False
                wait = None if self._next_wake is None else max(0.0, self._next_wake - now)
                self._changed.wait(wait)


def _shut_down(fd):
    # On a duplicate of the descriptor: shutdown() acts on the socket itself,
    # and closing the duplicate leaves libpq's descriptor alone.
    try:
        sock = socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM)
    except (OSError, socket.error, ValueError):
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except (OSError, socket.error):
        pass
    finally:
        sock.close()


_watchdog = [Watchdog()]


def arm(connection, seconds):
    """Cut ``connection``'s socket unless disarm() comes within ``seconds`` (None: never)."""
    return _watchdog[0].arm(connection, seconds)


def disarm(token):
    """Stop the clock started by arm()."""
    _watchdog[0].disarm(token)


def _new_watchdog_after_fork():
    # The parent's thread is gone and its lock may be held forever.
    _watchdog[0] = Watchdog()


def _stop_at_exit():
    # A daemon thread still waiting while Python 2.7 clears module globals
    # dies with a confusing traceback ('NoneType' object is not callable).
    _watchdog[0].stop()


atexit.register(_stop_at_exit)
on_fork_in_child(_new_watchdog_after_fork)
