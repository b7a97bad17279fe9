"""The process-wide set of pools, one per connection target, and fork handling.

Django builds a wrapper per thread (per task under ASGI), all sharing one
settings dict, so pools cannot live on a wrapper: they live here, keyed by
everything that makes two connections interchangeable.
"""
from __future__ import absolute_import, division, print_function

import atexit
import logging
import threading

from dbpool import housekeeping
from dbpool.forking import current_pid, on_fork_in_child
from dbpool.pool import DRAIN_TIMEOUT_S
from dbpool.pycompat import monotonic

logger = logging.getLogger('dbpool')

_lock = threading.Lock()
_pools = {}            # key -> ConnectionPool
_current = {}          # label (the alias) -> (key, pool) of its newest pool
_replaced = {}         # label -> monotonic times of its recent pool replacements
# Pools inherited from the parent process: never used, never closed, only
# kept referenced so their sockets are not closed under the parent.
_inherited = []
# Set by forks_workers(): connections opened here would only be inherited.
_forking_parent = [False]

# A label whose pool is replaced this often within CHURN_WINDOW_S seconds
# has a key that keeps changing (a parameter rebuilt per connect), not
# settings that changed: that is warned about, once per window.
CHURN_REPLACEMENTS = 3
CHURN_WINDOW_S = 60.0


def get_pool(key, label, create):
    """The pool for ``key``, made with ``create()`` if new.

    ``key`` is ``(label, ((parameter name, value), ...), session identity)``.
    A new key for a ``label`` that already has a pool means its settings
    changed (a test database, a new time zone): the new pool takes over the
    old one's MAX_CONNS (what is still checked out there counts until it
    comes back) and the old one is closed. The pool is made outside the
    registry's lock (making it logs and imports), and published under it.
    """
    # Asking for the pid notices a fork on Pythons without a fork hook
    # (2.7, 3.6), and then forgets the parent's pools before we look.
    current_pid()
    pool = _pools.get(key)
    if pool is not None:
        return pool
    made = create()
    with _lock:
        pool = _pools.get(key)
        if pool is not None:
            return pool  # another thread published one first; ours was never used
        previous = _current.get(label)
        stale = None
        if previous is not None:
            previous_key, older = previous
            made.follow(older)
            if not older.closed:  # else closed by close_pools(), nothing to replace
                stale = _pools.pop(previous_key, None)
        _pools[key] = made
        _current[label] = (key, made)
        churn = stale is not None and _note_replacement(label)
    if stale is not None:
        changed = ', '.join(changed_fields(previous_key, key))
        if churn:
            logger.warning(
                'dbpool: the pool for %s was replaced %d times in %d s: the connection '
                'key keeps changing (%s). Each replacement closes connections that could '
                'have been reused; look for a parameter rebuilt at every connect '
                '(get_connection_params) or settings changed per request.',
                label, CHURN_REPLACEMENTS, CHURN_WINDOW_S, changed)
        else:
            logger.info('dbpool: settings of %s changed (%s), closing %s',
                        label, changed, stale.name)
        stale.close(wait=False)
    housekeeping.watch(made)
    return made


def _note_replacement(label):
    # Lock held: True when this replacement makes the label's pools churn
    # (then the history starts again, so the warning comes once a window).
    now = monotonic()
    times = [when for when in _replaced.get(label, ()) if now - when < CHURN_WINDOW_S]
    times.append(now)
    if len(times) >= CHURN_REPLACEMENTS:
        _replaced[label] = []
        return True
    _replaced[label] = times
    return False


def changed_fields(old_key, new_key):
    """Names of what differs between two keys (never values: they may be secrets)."""
    try:
        old_params, new_params = dict(old_key[1]), dict(new_key[1])
        identity_changed = old_key[2] != new_key[2]
    except (IndexError, TypeError, ValueError):  # a key of another shape (tests, callers)
        return ['key']
    names = sorted(name for name in set(old_params) | set(new_params)
                   if old_params.get(name) != new_params.get(name))
    if identity_changed:
        names.append('session settings')
    return names or ['key']


def close_pools(match=None, wait=True):
    """Close and forget every pool, or those for which ``match(pool)`` is true.

    With ``wait``, connections being opened are waited for and closed too
    (see ConnectionPool.close).
    """
    with _lock:
        doomed = [(key, pool) for key, pool in _pools.items() if match is None or match(pool)]
        for key, pool in doomed:
            del _pools[key]
    for _, pool in doomed:
        pool.close(wait=wait)
    return len(doomed)


def drain_pools(timeout=DRAIN_TIMEOUT_S, match=None):
    """Drain every pool (or those for which ``match(pool)`` is true) within one ``timeout``.

    Every pool stops lending first, then each waits for its checked-out
    connections in what is left of ``timeout`` (see ConnectionPool.drain).
    The pools stay registered, so a later checkout meets PoolDrained rather
    than a new pool. Returns how many connections were still checked out.
    """
    pools = [pool for pool in all_pools() if match is None or match(pool)]
    for pool in pools:
        pool.stop_lending()
    deadline = monotonic() + timeout
    return sum(pool.drain(max(0.0, deadline - monotonic())) for pool in pools)


def forks_workers():
    """Declare this process a prefork master: warm-ups are refused here, not in its children."""
    _forking_parent[0] = True


def will_fork():
    """True in a process declared by forks_workers() (and not in its forked children)."""
    current_pid()  # notices a fork on Pythons without a fork hook
    return _forking_parent[0]


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
    _current.clear()
    _replaced.clear()
    _forking_parent[0] = False


def _close_at_exit():
    # Idle connections end with a goodbye to the server rather than a
    # dropped socket (which the server logs as an unexpected EOF).
    # Checked-out ones are left to their borrowers, which are ending too.
    try:
        current_pid()  # a child forked without a fork hook must not close the parent's
        close_pools(wait=False)
    except Exception:  # an exit must not fail for this
        logger.debug('dbpool: closing pools at exit failed', exc_info=True)


on_fork_in_child(_forget_pools_after_fork)
# Registered after the housekeeper's stop (imported above), so run before it.
atexit.register(_close_at_exit)
