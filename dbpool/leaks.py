"""Connections that are not given back: warnings, and reclaiming dead borrowers'.

Two cases. A borrower that keeps a connection longer than LEAK_TIMEOUT is
reported (a warning with where it was checked out) but left alone: it may
be a slow request. A borrower that is gone (its thread ended, its wrapper
was collected, without a checkin) can never give it back: the pool closes
that connection and frees its slot.
"""
from __future__ import absolute_import, division, print_function

import threading
import traceback
import weakref

# Innermost frames of the borrower's stack kept in a leak report: enough
# to get through Django's connect() layers to the code that queried.
STACK_LIMIT = 25


class OwnerToken(object):
    """Stands for one borrower; when it is collected, so is the borrower."""

    __slots__ = ('__weakref__',)


def watch_owner(pool, entry):
    """A token to keep with the borrower; if it dies first, ``pool`` reclaims ``entry``."""
    token = OwnerToken()

    def reclaim(_ref, pool=pool, entry=entry):
        # Runs inside the garbage collector, maybe while this very thread
        # holds the pool lock: only queue it, the housekeeper does the rest.
        pool.reclaim(entry)

    entry.owner_ref = weakref.ref(token, reclaim)
    return token


def release_owner(entry):
    """Forget the borrower at checkin, before its token goes (no reclaim then)."""
    entry.owner_ref = None


def describe_borrower(context=None):
    """Who is checking out: thread, what it is serving if known, and the stack."""
    # Without the last two frames: this function and the pool's checkout.
    stack = ''.join(traceback.format_stack(limit=STACK_LIMIT)[:-2])
    where = 'thread %s' % threading.current_thread().name
    if context:
        where += ', %s' % context
    return '%s, checked out at:\n%s' % (where, stack)
