"""Connections that are not given back: warnings, and reclaiming dead borrowers'.

Two cases. A borrower that keeps a connection longer than LEAK_TIMEOUT is
reported (a warning with where it was checked out) but left alone: it may
be a slow request. A borrower whose thread ended without a checkin can
never give it back: the pool closes that connection and frees its slot.
"""
from __future__ import absolute_import, division, print_function

import threading
import traceback
import weakref

# Innermost frames of the borrower's stack kept in a leak report: enough
# to get through Django's connect() layers to the code that queried.
STACK_LIMIT = 25


class OwnerToken(object):
    """Stands for one borrowing thread; it lives as long as that thread."""

    __slots__ = ('__weakref__',)


# Each thread's token, the weak reference to it and what the thread holds
# ({id(entry): (pool, entry)}). A thread's threading.local values are
# dropped as soon as the thread ends (no garbage collection needed, unlike
# Django's wrappers, which sit in reference cycles), so the token dies with
# its thread and the reference's callback queues what the thread still held.
_threads = threading.local()


def _thread_state():
    # The first checkout of a thread makes its token.
    held = {}

    def reclaim(ref, held=held):
        # Runs wherever the token dies, maybe while another thread holds a
        # pool lock: only queue, the housekeeper does the rest. The pool
        # reclaims an entry only while its owner_ref is still this very
        # reference, so one given back (by any thread) is left alone.
        for pool, entry in list(held.values()):
            pool.reclaim(entry, ref)

    token = OwnerToken()
    state = _threads.state = (token, weakref.ref(token, reclaim), held)
    return state


def watch_owner(pool, entry):
    """Have ``pool`` reclaim ``entry`` if this thread ends before checking it in."""
    state = getattr(_threads, 'state', None) or _thread_state()
    entry.owner_ref = state[1]
    state[2][id(entry)] = (pool, entry)


def release_owner(entry):
    """Forget the borrower at checkin (no reclaim then), from any thread."""
    # Cleared first: a reclaim queued by the owner's end is then ignored,
    # even if the owner was another thread that still lists the entry.
    entry.owner_ref = None
    state = getattr(_threads, 'state', None)
    if state is not None:
        state[2].pop(id(entry), None)


def describe_borrower(context=None):
    """Who is checking out: thread, what it is serving if known, and the stack."""
    # Without the last two frames: this function and the pool's checkout.
    stack = ''.join(traceback.format_stack(limit=STACK_LIMIT)[:-2])
    where = 'thread %s' % threading.current_thread().name
    if context:
        where += ', %s' % context
    return '%s, checked out at:\n%s' % (where, stack)
