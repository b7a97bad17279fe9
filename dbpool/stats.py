"""Statistics keys of a pool, the counters behind them, and their export."""
from __future__ import absolute_import, division, print_function

import logging

logger = logging.getLogger('dbpool')

# Live measures, read from the pool's state when a snapshot is taken.
CONNECTIONS_OPEN = 'connections_open'
CONNECTIONS_IDLE = 'connections_idle'
CONNECTIONS_IN_USE = 'connections_in_use'
CONNECTIONS_OPENING = 'connections_opening'
WAITING = 'waiting'
# Connections of pools this one replaced (the alias' settings changed) still
# checked out or being opened: they count against MAX_CONNS until they return.
CONNECTIONS_RETIRING = 'connections_retiring'

# Counters, only ever incremented; pop_stats() hands them out and zeroes them.
CHECKOUTS = 'checkouts'
CHECKOUTS_WAITED = 'checkouts_waited'
CHECKOUT_TIMEOUTS = 'checkout_timeouts'
WAIT_MS_TOTAL = 'wait_ms_total'
WAIT_MS_MAX = 'wait_ms_max'
CONNECTIONS_CREATED = 'connections_created'
CONNECT_FAILURES = 'connect_failures'
HEALTH_CHECKS = 'health_checks'
RESETS = 'resets'                  # returns that sent a reset (or, 'rollback', ended the transaction)
RESETS_SKIPPED = 'resets_skipped'  # returns whose session was provably clean: nothing sent
CODE_CHECKS = 'code_checks'        # catalog reads of what code statements may run implicitly
LEAKS_REPORTED = 'leaks_reported'

# Why a connection was closed: one counter per reason, named 'discarded_<reason>'.
DISCARD_BROKEN = 'broken'              # failed a health check or was closed
DISCARD_RESET_FAILED = 'reset_failed'  # the reset on return raised
DISCARD_LIFETIME = 'lifetime'          # older than MAX_LIFETIME
DISCARD_IDLE = 'idle'                  # idle past IDLE_TIMEOUT above MIN_CONNS
DISCARD_IN_ATOMIC = 'closed_in_atomic'  # Django closed it inside atomic()
DISCARD_RETIRED = 'retired'            # its pool was closed or replaced
DISCARD_LEAKED = 'leaked'              # its borrower died without a checkin
DISCARD_UNUSABLE = 'unusable'          # Django's own health check rejected it
DISCARD_READ_ONLY = 'read_only'        # its server reported itself read-only (a standby)
DISCARD_REASONS = (DISCARD_BROKEN, DISCARD_RESET_FAILED, DISCARD_LIFETIME,
                   DISCARD_IDLE, DISCARD_IN_ATOMIC, DISCARD_RETIRED, DISCARD_LEAKED,
                   DISCARD_UNUSABLE, DISCARD_READ_ONLY)
# The reasons that mean something went wrong (logged at WARNING, the rest at INFO).
FAILURE_REASONS = frozenset([DISCARD_BROKEN, DISCARD_RESET_FAILED, DISCARD_UNUSABLE,
                             DISCARD_READ_ONLY])

COUNTERS = (CHECKOUTS, CHECKOUTS_WAITED, CHECKOUT_TIMEOUTS, WAIT_MS_TOTAL, WAIT_MS_MAX,
            CONNECTIONS_CREATED, CONNECT_FAILURES, HEALTH_CHECKS, RESETS,
            RESETS_SKIPPED, CODE_CHECKS, LEAKS_REPORTED) + tuple(
                'discarded_' + reason for reason in DISCARD_REASONS)


def new_counters():
    """A zeroed counter dict with every counter key."""
    return dict.fromkeys(COUNTERS, 0)


class StatsExport(object):
    """Hands a pool's statistics to a callable every ``interval_s`` seconds.

    The housekeeper calls ``tick()`` about once a second; the callable
    (OPTIONS['STATS_CALLBACK']) gets ``(alias, snapshot)`` in that thread,
    with counters that keep growing (a metrics system takes differences).
    """

    def __init__(self, callback, interval_s):
        self.callback = callback
        self.interval_s = interval_s
        self._next = None

    def tick(self, now, label, snapshot):
        """Call the callback with ``snapshot()`` if it is due; never raises."""
        if self.callback is None:
            return
        if self._next is None:
            self._next = now + self.interval_s  # the first one an interval after creation
        if now < self._next:
            return
        self._next = now + self.interval_s
        try:
            self.callback(label, snapshot())
        except Exception:
            logger.exception('dbpool: STATS_CALLBACK %r failed for alias %s',
                             self.callback, label)
