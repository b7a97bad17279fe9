"""PoolEntry: the pool's record of one physical connection."""
from __future__ import absolute_import, division, print_function

import collections
import random

from dbpool.pycompat import monotonic


class PoolEntry(object):
    """One physical connection and what the pool knows of it.

    It lives as long as the connection; a checkout only borrows it. The pool
    owns every field; callers read ``connection``.
    """

    __slots__ = ('connection', 'pid', 'created_at', 'expires_at', 'returned_at',
                 'checkouts', 'doomed', 'borrowed_at', 'borrower', 'leak_reported',
                 'owner_ref', 'reset_sql', 'clean', 'prepared', 'set_up_again', 'lease')

    def __init__(self, connection, pid, max_lifetime):
        self.connection = connection
        self.pid = pid
        self.created_at = monotonic()
        self.returned_at = self.created_at
        # Up to 10 % early, so connections opened together do not all expire
        # (and reconnect) in the same second.
        self.expires_at = None
        if max_lifetime:
            self.expires_at = self.created_at + max_lifetime * (1.0 - random.random() * 0.1)
        self.checkouts = 0
        # Set when the pool is retired while the entry is checked out: the
        # connection is closed at checkin instead of being kept.
        self.doomed = False
        # The current checkout (see dbpool.leaks).
        self.borrowed_at = None
        self.borrower = None
        self.leak_reported = False
        self.owner_ref = None
        # Holds one item while the entry is checked out. Giving it back
        # pops it: a pop cannot succeed twice, even from two threads at
        # once (deque pops are atomic), so a second checkin is refused.
        self.lease = collections.deque()
        # This connection's own reset on return, when it must also put back
        # settings made at its creation (see dbpool.db.signals); else None.
        self.reset_sql = None
        # The session as last known clean (dbpool.tracking.baseline), or None
        # when the connection is not tracked and every checkin must reset it.
        self.clean = None
        # True once the borrower's own set-up of this session ran (Django's
        # connect()) and no reset has undone it since: a later checkout may
        # then skip that set-up.
        self.prepared = False
        # True when the last checkin had to take away type adapters the
        # session's set-up may have added since it ran (Django registers
        # hstore when a migration creates it): the next checkout runs the
        # set-up again, connection_created included.
        self.set_up_again = False

    def lend(self):
        """Mark the entry checked out."""
        self.lease.append(True)

    def claim_back(self):
        """True for the one caller that ends this checkout; False if it has ended."""
        try:
            self.lease.pop()
        except IndexError:
            return False
        return True

    def is_first_checkout(self):
        """True while the physical connection is lent out for the first time."""
        return self.checkouts == 1

    def is_expired(self, now):
        """True once the connection has outlived MAX_LIFETIME."""
        return self.expires_at is not None and now >= self.expires_at

    def __repr__(self):
        try:
            backend_pid = self.connection.info.backend_pid
        except Exception:  # closed, or a driver without ``info``
            backend_pid = None
        return '<PoolEntry backend_pid=%s checkouts=%d>' % (backend_pid, self.checkouts)
