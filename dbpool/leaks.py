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
    """Stands for one checkout; it lives as long as the borrowing thread."""

    __slots__ = ('__weakref__',)


# Each thread's tokens, by entry. A thread's threading.local values are
# dropped as soon as the thread ends (no garbage collection needed, unlike
# Django's wrappers, which sit in reference cycles), so a token dies with
# the thread that borrowed and never gave back.
_held = threading.local()


def watch_owner(pool, entry):
    """Have ``pool`` reclaim ``entry`` if this thread ends before checking it in."""
    token = OwnerToken()

    def reclaim(ref, pool=pool, entry=entry):
        # Runs wherever the token dies, maybe while that thread holds the
        # pool lock: only queue it, the housekeeper does the rest. The weak
        # reference names this very checkout, so a later one is left alone.
        pool.reclaim(entry, ref)

    entry.owner_ref = weakref.ref(token, reclaim)
    tokens = getattr(_held, 'tokens', None)
    if tokens is None:
        tokens = _held.tokens = {}
    tokens[id(entry)] = token


def release_owner(entry):
    """Forget the borrower at checkin (no reclaim then), from any thread."""
    # Dropping the weak reference first means its callback can never run,
    # even if the token outlives this call in another thread's dict.
    entry.owner_ref = None
    tokens = getattr(_held, 'tokens', None)
    if tokens:
        tokens.pop(id(entry), None)


def describe_borrower(context=None):
    """Who is checking out: thread, what it is serving if known, and the stack."""
    # Without the last two frames: this function and the pool's checkout.
    stack = ''.join(traceback.format_stack(limit=STACK_LIMIT)[:-2])
    where = 'thread %s' % threading.current_thread().name
    if context:
        where += ', %s' % context
    return '%s, checked out at:\n%s' % (where, stack)
