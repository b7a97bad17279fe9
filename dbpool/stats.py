"""Statistics keys of a pool, and the counters behind them."""
from __future__ import absolute_import, division, print_function

# Live measures, read from the pool's state when a snapshot is taken.
CONNECTIONS_OPEN = 'connections_open'
CONNECTIONS_IDLE = 'connections_idle'
CONNECTIONS_IN_USE = 'connections_in_use'
CONNECTIONS_OPENING = 'connections_opening'
WAITING = 'waiting'

# Counters, only ever incremented; pop_stats() hands them out and zeroes them.
CHECKOUTS = 'checkouts'
CHECKOUTS_WAITED = 'checkouts_waited'
CHECKOUT_TIMEOUTS = 'checkout_timeouts'
WAIT_MS_TOTAL = 'wait_ms_total'
WAIT_MS_MAX = 'wait_ms_max'
CONNECTIONS_CREATED = 'connections_created'
CONNECT_FAILURES = 'connect_failures'
HEALTH_CHECKS = 'health_checks'
RESETS = 'resets'
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
DISCARD_REASONS = (DISCARD_BROKEN, DISCARD_RESET_FAILED, DISCARD_LIFETIME,
                   DISCARD_IDLE, DISCARD_IN_ATOMIC, DISCARD_RETIRED, DISCARD_LEAKED,
                   DISCARD_UNUSABLE)

COUNTERS = (CHECKOUTS, CHECKOUTS_WAITED, CHECKOUT_TIMEOUTS, WAIT_MS_TOTAL, WAIT_MS_MAX,
            CONNECTIONS_CREATED, CONNECT_FAILURES, HEALTH_CHECKS, RESETS,
            LEAKS_REPORTED) + tuple(
                'discarded_' + reason for reason in DISCARD_REASONS)


def new_counters():
    """A zeroed counter dict with every counter key."""
    return dict.fromkeys(COUNTERS, 0)
