"""The process-wide set of pools, one per connection target, and fork handling.

Django builds a wrapper per thread (per task under ASGI), all sharing one
settings dict, so pools cannot live on a wrapper: they live here, keyed by
everything that makes two connections interchangeable.
"""
from __future__ import absolute_import, division, print_function

import logging
import threading

from dbpool import housekeeping
from dbpool.forking import current_pid, on_fork_in_child

logger = logging.getLogger('dbpool')

_lock = threading.Lock()
_pools = {}            # key -> ConnectionPool
_current_key = {}      # label (the alias) -> key of its newest pool
# Pools inherited from the parent process: never used, never closed, only
# kept referenced so their sockets are not closed under the parent.
_inherited = []


def get_pool(key, label, create):
    """The pool for ``key``, made with ``create()`` if new.

    A new key for a ``label`` that already has a pool means its settings
    changed (a test database, a new time zone): the old pool is closed.
    """
    # Asking for the pid notices a fork on Pythons without a fork hook
    # (2.7, 3.6), and then forgets the parent's pools before we look.
    current_pid()
    pool = _pools.get(key)
    if pool is not None:
        return pool
    with _lock:
        pool = _pools.get(key)
        stale = None
        if pool is None:
            previous = _current_key.get(label)
            if previous is not None and previous != key:
                stale = _pools.pop(previous, None)
            pool = _pools[key] = create()
            _current_key[label] = key
    if stale is not None:
        logger.info('dbpool: settings of %s changed, closing %s', label, stale.name)
        stale.close()
    housekeeping.watch(pool)
    return pool


def close_pools(match=None):
    """Close and forget every pool, or those for which ``match(pool)`` is true."""
    with _lock:
        doomed = [(key, pool) for key, pool in _pools.items() if match is None or match(pool)]
        for key, pool in doomed:
            del _pools[key]
    for _, pool in doomed:
        pool.close()
    return len(doomed)


def all_pools():
    """Every live pool of this process."""
    with _lock:
        return list(_pools.values())


def pool_stats():
    """Statistics of every pool of this process, as a list of dicts."""
    return [pool.stats() for pool in all_pools()]


def _forget_pools_after_fork():
    global _lock
    # The parent's lock may have been held by a thread that does not exist
    # here; a fresh one is the only safe choice.
    _lock = threading.Lock()
    for pool in _pools.values():
        pool.abandon()
        _inherited.append(pool)
    _pools.clear()
    _current_key.clear()


on_fork_in_child(_forget_pools_after_fork)
