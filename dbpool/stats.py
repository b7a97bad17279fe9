"""Statistics keys of a pool, the counters behind them, and their export."""
from __future__ import absolute_import, division, print_function

import logging
import threading

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
HEALTH_CHECK_FAILURES = 'health_check_failures'  # OPTIONS['HEALTH_CHECK'] said no or raised
RESETS = 'resets'                  # returns that sent a reset (or, 'rollback', ended the transaction)
RESETS_SKIPPED = 'resets_skipped'  # returns whose session was provably clean: nothing sent
CODE_CHECKS = 'code_checks'        # catalog reads of what code statements may run implicitly
LEAKS_REPORTED = 'leaks_reported'
# CHECKOUT_SCOPE='transaction': connections given back after a statement,
# mid-request, and borrows kept to their end because the session changed.
RETURNED_BETWEEN_STATEMENTS = 'returned_between_statements'
PINNED = 'pinned'
USE_MS_TOTAL = 'use_ms_total'      # the sum of the use histogram (wait's is WAIT_MS_TOTAL)
USE_MS_MAX = 'use_ms_max'
CONNECT_MS_TOTAL = 'connect_ms_total'

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
            CONNECTIONS_CREATED, CONNECT_FAILURES, HEALTH_CHECKS, HEALTH_CHECK_FAILURES, RESETS,
            RESETS_SKIPPED, CODE_CHECKS, LEAKS_REPORTED, RETURNED_BETWEEN_STATEMENTS,
            PINNED, USE_MS_TOTAL, USE_MS_MAX, CONNECT_MS_TOTAL) + tuple(
                'discarded_' + reason for reason in DISCARD_REASONS)


def new_counters():
    """A zeroed counter dict with every counter key."""
    return dict.fromkeys(COUNTERS, 0)


# -- Distributions ------------------------------------------------------------
#
# How long checkouts waited, how long borrowers kept their connection, and
# how long new connections took to open, as counts in fixed buckets: the
# upper bounds below, in milliseconds, and one more bucket above the last.
# Fixed bounds let every process and every pool be added up, and keep the
# cost of recording one value to a bisect on this small tuple and an
# increment, done under the lock the pool takes anyway. The first bucket
# holds exactly 0: the checkouts that did not wait at all.
HISTOGRAM_BOUNDS_MS = (0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
HISTOGRAM_BOUNDS = 'histogram_bounds_ms'

# Snapshot keys: cumulative counts, one per bound and the last for +Inf
# (so it is also the number of values), and that number on its own. The
# sums are the counters WAIT_MS_TOTAL, USE_MS_TOTAL and CONNECT_MS_TOTAL.
WAIT_MS_HISTOGRAM = 'wait_ms_histogram'  # checkouts not refused nor timed out; 0 if at once
WAIT_MS_COUNT = 'wait_ms_count'
USE_MS_HISTOGRAM = 'use_ms_histogram'    # checkout to checkin or discard
USE_MS_COUNT = 'use_ms_count'
CONNECT_MS_HISTOGRAM = 'connect_ms_histogram'  # new connections opened
CONNECT_MS_COUNT = 'connect_ms_count'

# Each histogram key with the key of its count.
DISTRIBUTIONS = ((WAIT_MS_HISTOGRAM, WAIT_MS_COUNT), (USE_MS_HISTOGRAM, USE_MS_COUNT),
                 (CONNECT_MS_HISTOGRAM, CONNECT_MS_COUNT))
_COUNT_KEYS = dict(DISTRIBUTIONS)


def new_buckets():
    """Zeroed bucket counts (not cumulative): one per bound, and one above the last."""
    return [0] * (len(HISTOGRAM_BOUNDS_MS) + 1)


def cumulative(counts):
    """Bucket counts as the running totals a histogram reports, as a tuple."""
    total = 0
    running = []
    for count in counts:
        total += count
        running.append(total)
    return tuple(running)


def add_histogram(snapshot, key, counts):
    """Put the cumulative histogram ``key`` of these bucket counts, and its count, in ``snapshot``."""
    running = cumulative(counts)
    snapshot[key] = running
    snapshot[_COUNT_KEYS[key]] = running[-1]
    snapshot[HISTOGRAM_BOUNDS] = HISTOGRAM_BOUNDS_MS


def percentile_ms(histogram, fraction):
    """Estimate a percentile (``fraction`` 0.5 for the median) of a cumulative histogram.

    Interpolates linearly inside the bucket the percentile falls in, as
    Prometheus' histogram_quantile() does; a percentile in the bucket above
    the last bound is reported as that bound (it is at least that). None
    when nothing was counted.
    """
    total = histogram[-1] if histogram else 0
    if not total:
        return None
    rank = fraction * total
    below = 0
    lower = 0.0
    for index, running in enumerate(histogram):
        if index == len(HISTOGRAM_BOUNDS_MS):
            return float(HISTOGRAM_BOUNDS_MS[-1])
        upper = float(HISTOGRAM_BOUNDS_MS[index])
        if running >= rank and running > below:
            return lower + (upper - lower) * (rank - below) / (running - below)
        below = running
        lower = upper
    return float(HISTOGRAM_BOUNDS_MS[-1])


# -- Listeners ------------------------------------------------------------------
#
# Callables called as ``listener(pool, event, seconds)`` after each of these
# events, in the thread that caused it and outside the pool's lock (so a
# listener may call pool.stats()). An exporter with histograms of its own
# (dbpool.otel) feeds them from here. With no listener the pool pays one
# truth test per event. The tuple is replaced, never changed in place, so a
# pool iterating it needs no lock; adding and removing take one.
EVENT_WAIT = 'wait'        # a checkout got a connection after ``seconds`` (0.0: at once)
EVENT_USE = 'use'          # a connection came back (checkin or discard) after ``seconds``
EVENT_CONNECT = 'connect'  # a new connection took ``seconds`` to open
EVENT_TIMEOUT = 'timeout'  # a checkout gave up after ``seconds`` (PoolTimeout)
LISTENERS = ()
_listeners_lock = threading.Lock()


def add_listener(listener):
    """Have ``listener(pool, event, seconds)`` called at every pool event."""
    global LISTENERS
    with _listeners_lock:
        LISTENERS = LISTENERS + (listener,)


def remove_listener(listener):
    """Stop calling ``listener``; nothing happens if it was not added."""
    global LISTENERS
    with _listeners_lock:
        # Equality, not identity: each access to a bound method makes a new one.
        LISTENERS = tuple(known for known in LISTENERS if known != listener)


def notify(pool, event, seconds):
    """Call every listener; one that raises is logged and the others still run."""
    for listener in LISTENERS:
        try:
            listener(pool, event, seconds)
        except Exception:
            logger.exception('dbpool: statistics listener %r failed on %s of %s',
                             listener, event, pool.name)


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
