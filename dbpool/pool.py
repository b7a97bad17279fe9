"""ConnectionPool: checkout, checkin, the waiting queue and sizing.

The pool knows nothing of Django: it is handed a ``connect()`` callable that
returns a new driver connection, and PoolOptions. Everything slow (opening,
pinging, resetting, closing) happens outside the lock; the lock only guards
the bookkeeping below.
"""
from __future__ import absolute_import, division, print_function

import collections
import logging
import threading
import time
from bisect import bisect_left

from dbpool import health, leaks, stats, tracking
from dbpool.entry import PoolEntry
from dbpool.errors import PoolClosed, PoolDrained, PoolTimeout
from dbpool.forking import current_pid
from dbpool.options import RESET_AUTO, RESET_ROLLBACK
from dbpool.pycompat import elapsed, monotonic
from dbpool.stats import HISTOGRAM_BOUNDS_MS

logger = logging.getLogger('dbpool')

# How long close() waits for connections still being opened, so that a
# DROP DATABASE right after it does not meet a connection born a moment later.
CLOSE_WAIT_S = 10.0
# How long drain() waits by default for checked-out connections to come back.
DRAIN_TIMEOUT_S = 10.0


class _Waiter(object):
    """A checkout blocked on a full pool, served in arrival order.

    The pool serves a waiter by setting ``entry`` (a connection to use) or
    nothing (room to open one), then ``ready``. The waiter sleeps on its own
    event rather than on the pool lock, so waking it does not make it queue
    for that lock behind every other checkout and checkin. A waiter that
    times out removes itself under the pool lock, unless it was served
    meanwhile, in which case it takes what it was given.
    """

    __slots__ = ('ready', 'served', 'entry', 'closed')

    def __init__(self):
        self.ready = threading.Event()
        self.served = False
        self.entry = None
        self.closed = False

    def serve(self, entry=None, closed=False):
        # Pool lock held.
        self.entry = entry
        self.closed = closed
        self.served = True
        self.ready.set()


class ConnectionPool(object):
    """A bounded, thread-safe pool of connections to one database target."""

    def __init__(self, connect, options, name='pool', time_zone=None, label=None, dbname=None):
        self.name = name          # for messages: never holds a password
        self.label = label        # the Django alias, for statistics
        self.dbname = dbname      # so a DROP DATABASE can close what points at it
        self.options = options
        self._connect = connect
        # The reset on return: the spelt-out form until the first new
        # connection shows whether the server's default zone is the one
        # wanted, in which case the cheaper DISCARD ALL is enough.
        self._time_zone = time_zone
        self._reset_sql = health.build_reset_sql(options.reset_on_return, time_zone)
        self._reset_tuned = False
        # Whether data statements may be trusted not to run code that
        # changes session state (RESET_ON_RETURN='auto').
        self._code = tracking.DatabaseCode(options.trusted_functions)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # for close() only
        # Pools this one replaced (same alias, older settings) whose
        # connections are still out: they count against MAX_CONNS here
        # until they come back. A replaced pool's heir is its newest
        # successor, which gets the slots it frees. See follow().
        self._elders = []
        self._heir = None
        self._idle = []           # a stack: the most recently returned on top
        self._in_use = set()
        self._opening = 0         # slots reserved for connections being opened
        self._closing = 0         # idle connections being closed by housekeeping
        self._waiters = collections.deque()
        self._closed = False
        self._drained = False     # closed by stop_lending(): refusals say so
        # After close(wait=False): a connection being opened for a borrower
        # is still lent to it (a replaced pool), not closed.
        self._lend_in_flight = False
        self._counters = stats.new_counters()
        self._new_distributions()
        # Entries whose borrower died without a checkin (see dbpool.leaks);
        # deque.append is safe from inside the garbage collector.
        self._reclaimed = collections.deque()
        self._export = stats.StatsExport(options.stats_callback, options.stats_interval)

    def __repr__(self):
        return '<ConnectionPool %s>' % self.name

    # -- Checkout ---------------------------------------------------------

    def checkout(self, timeout=None, describe=None):
        """Return a PoolEntry whose connection is the caller's until checkin().

        ``describe()`` says what the borrower is serving (a request path),
        for leak reports; it is called only when LEAK_TIMEOUT is set.

        Interrupted anywhere (an exception that is not an Exception, such
        as gevent's Timeout or KeyboardInterrupt, included), it leaves the
        pool as it found it: no slot kept, no connection without a borrower.
        """
        borrower = None
        if self.options.leak_timeout is not None:
            borrower = leaks.describe_borrower(describe() if describe else None)
        entry, waited = self._take(self.options.pool_timeout if timeout is None else timeout)
        now = monotonic()
        if entry is not None and self._lendable(entry, now):
            entry.checkouts += 1
        else:
            # None: the caller holds a slot; or an idle connection that is
            # dead was discarded keeping its slot, so a pool of dead
            # connections heals without the caller seeing an error.
            entry = self._open_in_slot()
        self._lend(entry, now, waited)
        entry.borrower = borrower
        return entry

    def _lend(self, entry, now, waited):
        # The entry is the caller's from ``now``.
        entry.lend()
        entry.borrowed_at = now
        entry.leak_reported = False
        if stats.LISTENERS:
            stats.notify(self, stats.EVENT_WAIT, waited)

    def lend_again(self, entry, idle_at_most):
        """Lend ``entry`` again to the borrower that gave it back untouched, if it is still idle.

        For transaction-scoped checkout: the borrower's next statement takes
        back the connection it left (returned with checkin(untouched=True))
        when nobody took it meanwhile and it sat idle at most
        ``idle_at_most`` seconds. Then nothing about it is checked: request
        scope would have held it over the same pause without a look. True
        when lent; else the caller checks out as usual.
        """
        now = monotonic()
        if (now - entry.returned_at > idle_at_most or entry.is_expired(now)
                or entry.pid != current_pid()):
            return False
        with self._lock:
            idle = self._idle
            if self._closed or not idle:
                return False
            if idle[-1] is entry:
                idle.pop()
            else:
                try:
                    idle.remove(entry)
                except ValueError:
                    return False  # lent to someone else meanwhile
            self._in_use.add(entry)
            self._counters[stats.CHECKOUTS] += 1
            self._waits[0] += 1
        entry.checkouts += 1
        self._lend(entry, now, 0.0)
        return True

    def _take(self, timeout):
        """(An idle entry, or None when the caller now holds a slot to open one; seconds waited)."""
        with self._lock:
            if self._closed:
                raise self._refusal('is')
            self._counters[stats.CHECKOUTS] += 1
            if self._idle:
                entry = self._idle.pop()
                self._in_use.add(entry)
                self._waits[0] += 1  # the bucket of 0 ms
                return entry, 0.0
            if self._size() < self.options.max_conns:
                self._opening += 1
                self._waits[0] += 1
                return None, 0.0
            waiter = _Waiter()
            self._waiters.append(waiter)
        return self._wait(waiter, timeout)

    def _wait(self, waiter, timeout):
        started = monotonic()
        try:
            waiter.ready.wait(timeout)
        except BaseException:
            self._stop_waiting(waiter)
            raise
        waited = monotonic() - started
        with self._lock:
            if not waiter.served:
                self._waiters.remove(waiter)
                self._counters[stats.CHECKOUT_TIMEOUTS] += 1
                message = self._timeout_message(waited)
            else:
                wait_ms = waited * 1000.0
                self._counters[stats.CHECKOUTS_WAITED] += 1
                self._counters[stats.WAIT_MS_TOTAL] += wait_ms
                self._counters[stats.WAIT_MS_MAX] = max(self._counters[stats.WAIT_MS_MAX],
                                                        wait_ms)
                self._waits[bisect_left(HISTOGRAM_BOUNDS_MS, wait_ms)] += 1
        if not waiter.served:
            logger.warning('dbpool: %s', message)
            if stats.LISTENERS:
                stats.notify(self, stats.EVENT_TIMEOUT, waited)
            raise PoolTimeout(message)
        if waiter.closed:
            raise self._refusal('was', ' while waiting')
        return waiter.entry, waited

    def _stop_waiting(self, waiter):
        """Undo a wait that was interrupted: pass on whatever it was served meanwhile."""
        with self._lock:
            if not waiter.served:
                self._waiters.remove(waiter)
                return
            entry = waiter.entry
            if waiter.closed:
                return
            if entry is None:  # served with a slot to open a connection in
                self._opening -= 1
                self._slot_freed()
                return
            self._in_use.discard(entry)
            if not self._closed:
                self._hand_over(entry)
                return
            self._in_use.add(entry)
        self._discard(entry, stats.DISCARD_RETIRED)

    def _refusal(self, tense, when=''):
        # The error a checkout of a closed pool raises: a drain says why.
        if self._drained:
            return PoolDrained('%s %s drained%s: it lends no more connections (the '
                               'process is shutting down)' % (self.name, tense, when))
        return PoolClosed('%s %s closed%s' % (self.name, tense, when))

    def _timeout_message(self, waited):
        # Lock held.
        elders = self._elders_out()
        return (
            '%s waited %.1f s for a connection: MAX_CONNS=%d, %d in use, %d opening, '
            '%d waiting%s. '
            "Raise OPTIONS['MAX_CONNS'] or OPTIONS['POOL_TIMEOUT'], or look for a thread "
            'that keeps its connection checked out.' % (
                self.name, waited, self.options.max_conns, len(self._in_use), self._opening,
                len(self._waiters),
                (', %d still out from the pool it replaced (settings changed)' % elders)
                if elders else ''))

    def _lendable(self, entry, now):
        """True if the idle ``entry`` may be handed out, else it is discarded (keeping its slot)."""
        connection = entry.connection
        options = self.options
        if entry.is_expired(now):
            self._discard(entry, stats.DISCARD_LIFETIME, keep_slot=True)
            return False
        try:
            if (options.test_on_borrow
                    or (options.test_after_idle is not None
                        and now - entry.returned_at >= options.test_after_idle)
                    or health.may_be_gone(connection)):
                self._count(stats.HEALTH_CHECKS)
                if not self._healthy(connection):
                    self._discard(entry, stats.DISCARD_BROKEN, keep_slot=True)
                    return False
            if (options.writable_target is not None
                    and health.reports_read_only(connection, options.writable_target)):
                return self._still_writable(entry)
        except BaseException:
            # Interrupted mid-ping: the session is in an unknown state.
            self._discard(entry, stats.DISCARD_BROKEN)
            raise
        return True

    def _healthy(self, connection):
        # OPTIONS['HEALTH_CHECK'] in place of the ping, when given.
        options = self.options
        if options.health_check is None:
            return health.ping(connection, options.test_on_borrow_query, options.ping_timeout)
        if health.run_check(options.health_check, connection, options.ping_timeout, self.name):
            return True
        self._count(stats.HEALTH_CHECK_FAILURES)
        return False

    def _still_writable(self, entry):
        """Ping an idle ``entry`` whose server reported itself read-only; discard it if still so.

        The report is as of the session's last answer: a standby promoted
        since says so with the next one, and stays. An old primary that came
        back as a standby, or a standby a multi-host list reached, does not.
        """
        connection = entry.connection
        options = self.options
        self._count(stats.HEALTH_CHECKS)
        if not health.ping(connection, options.test_on_borrow_query, options.ping_timeout):
            self._discard(entry, stats.DISCARD_BROKEN, keep_slot=True)
            return False
        if health.reports_read_only(connection, options.writable_target):
            self._discard(entry, stats.DISCARD_READ_ONLY, keep_slot=True)
            return False
        return True

    def _open_in_slot(self):
        """Open a connection in a slot the caller reserved, and check it out."""
        entry = self._open_entry()
        with self._lock:
            if not self._closed or self._lend_in_flight:
                self._opening -= 1
                # Replaced meanwhile: still what this borrower asked for,
                # and closed when it comes back.
                entry.doomed = self._closed
                self._in_use.add(entry)
                entry.checkouts += 1
                return entry
        self._close_in_slot(entry)
        raise PoolClosed('%s was closed while connecting' % self.name)

    def _close_in_slot(self, entry):
        # A connection opened in a reserved slot for a pool closed meanwhile:
        # the slot is given up once the connection is gone.
        health.close_quietly(entry.connection)
        with self._lock:
            self._opening -= 1
            self._slot_freed()

    def _open_entry(self):
        # Called holding a reserved slot; gives the slot back if connect
        # fails or is interrupted (then the half-made connection is closed).
        connection = None
        started = monotonic()
        try:
            connection = self._connect()
            entry = self._new_entry(connection)
        except BaseException as exc:
            if connection is not None:
                health.close_quietly(connection)
            if isinstance(exc, Exception):
                logger.warning('dbpool: %s could not open a connection: %s', self.name, exc)
            with self._lock:
                self._opening -= 1
                self._counters[stats.CONNECT_FAILURES] += 1
                self._slot_freed()
            raise
        took = elapsed(started)
        with self._lock:
            self._counters[stats.CONNECTIONS_CREATED] += 1
            self._counters[stats.CONNECT_MS_TOTAL] += took * 1000.0
            self._connects[bisect_left(HISTOGRAM_BOUNDS_MS, took * 1000.0)] += 1
        if stats.LISTENERS:
            stats.notify(self, stats.EVENT_CONNECT, took)
        logger.info('dbpool: %s opened %r', self.name, entry)
        return entry

    def _new_entry(self, connection):
        health.watch_connection(connection)
        entry = PoolEntry(connection, current_pid(), self.options.max_lifetime)
        if tracking.adopt(connection, self.options.trusted_functions):
            entry.clean = tracking.baseline(connection)
        if not self._reset_tuned:
            # Every thread computes the same answer, so no lock is needed.
            self._reset_sql = health.build_reset_sql(
                self.options.reset_on_return, self._time_zone,
                health.session_time_zone(connection))
            self._reset_tuned = True
        return entry

    # -- Checkin ----------------------------------------------------------

    def checkin(self, entry, untouched=False):
        """Take back a checked-out entry: reset it if needed and keep it, or close it.

        ``untouched``: session_untouched() said True just now, after the
        borrower's last statement (transaction-scoped checkout), so the
        session is not looked at again.
        """
        if entry.pid != current_pid():
            # Opened by our parent before a fork: not ours to reset or close.
            return
        if not entry.claim_back():
            self._refuse(entry, 'checkin')
            return
        self._end_borrow(entry)
        now = monotonic()
        used = now - entry.borrowed_at
        if stats.LISTENERS:
            stats.notify(self, stats.EVENT_USE, used)
        try:
            reason, counter = self._return_reason(entry, now, untouched)
        except BaseException:
            # Interrupted mid-reset: the session is in an unknown state.
            self._discard(entry, stats.DISCARD_RESET_FAILED, used_s=used)
            raise
        # One lock round for the counters and the hand-over: every lock taken
        # on the way back is a point where busy threads queue.
        with self._lock:
            if counter is not None:
                self._counters[counter] += 1
            if untouched:
                self._counters[stats.RETURNED_BETWEEN_STATEMENTS] += 1
            self._record_use(used)
            if reason is None and (self._closed or entry.doomed):
                reason = stats.DISCARD_RETIRED
            if reason is None:
                entry.returned_at = now
                self._in_use.discard(entry)
                self._hand_over(entry)
                return
        self._discard(entry, reason)

    def _record_use(self, used):
        # Lock held: one more checkout ended after ``used`` seconds (below
        # 0 if the clock went back, with Python 2.7's wall clock).
        used_ms = used * 1000.0 if used > 0.0 else 0.0
        counters = self._counters
        self._uses[bisect_left(HISTOGRAM_BOUNDS_MS, used_ms)] += 1
        counters[stats.USE_MS_TOTAL] += used_ms
        if used_ms > counters[stats.USE_MS_MAX]:
            counters[stats.USE_MS_MAX] = used_ms

    def _return_reason(self, entry, now, untouched=False):
        """(None if the returned ``entry`` can be kept, else why not; the counter to bump).

        This is where the pool decides what a return costs: nothing for a
        session provably as clean as its baseline (RESET_ON_RETURN='auto'),
        else the reset round trip.
        """
        if entry.doomed or self._closed:
            return stats.DISCARD_RETIRED, None
        if entry.is_expired(now):
            return stats.DISCARD_LIFETIME, None
        if untouched:
            return None, stats.RESETS_SKIPPED
        connection = entry.connection
        if health.is_closed(connection):
            return stats.DISCARD_BROKEN, None
        timeout = self.options.ping_timeout
        if entry.clean is not None:
            # First end the transaction (free when none is open), so that
            # what it did with SET LOCAL and the like is gone, and since the
            # drivers change their own settings only outside one. Then put
            # those back (one comparison when unchanged): a SET a driver
            # sends to do so is the reset's to clear, and the catalog read
            # below uses a cursor the borrower's factories would shape.
            if not (health.is_idle_in_autocommit(connection)
                    or health.reset(connection, None, timeout)):
                return stats.DISCARD_RESET_FAILED, stats.RESETS
            if not tracking.restore_driver(connection, entry.clean, timeout):
                return stats.DISCARD_RESET_FAILED, stats.RESETS
            if tracking.adapters_taken_away(connection):
                entry.set_up_again = True
                entry.prepared = False
            if (self.options.reset_on_return == RESET_AUTO
                    and not self._needs_reset(connection, entry.clean, now)):
                return None, stats.RESETS_SKIPPED
        reset_sql = tracking.reset_sql_for(connection, entry.reset_sql or self._reset_sql,
                                           self.options.reset_on_return != RESET_AUTO,
                                           self._code.trusted)
        if not health.reset(connection, reset_sql, timeout):
            return stats.DISCARD_RESET_FAILED, stats.RESETS
        if entry.clean is None:
            return None, stats.RESETS
        if self.options.reset_on_return != RESET_ROLLBACK:
            self._mark_clean(entry, prepared=False)
        elif tracking.needs_reset(connection, entry.clean, True):
            # Left as the borrower changed it: the next checkout goes
            # through the borrower's set-up again (Django's connect() puts
            # back its time zone and role), which then sets the baseline.
            entry.prepared = False
        return None, stats.RESETS

    def _needs_reset(self, connection, clean, now):
        code = self._code
        if code.due(now, connection):
            # Claimed first: other threads keep the old verdict meanwhile.
            code.checked_at = now
            self._count(stats.CODE_CHECKS)
            timeout = self.options.ping_timeout
            try:
                tracking.check_code(code, connection,
                                    lambda conn, sql: health.query_rows(conn, sql, timeout))
            except Exception as exc:
                logger.info('dbpool: %s could not read which functions the database '
                            'calls implicitly, resetting: %s', self.name, exc)
                code.trusted = False
                return True
        return tracking.needs_reset(connection, clean, code.trusted)

    def session_untouched(self, entry):
        """True when ``entry``, still checked out, could go to another borrower as it is.

        That is when its checkin would send nothing: the driver object as
        lent, and the session provably as clean as its baseline
        (RESET_ON_RETURN='auto'). Call it with no transaction open
        (health.is_idle_in_autocommit): transaction-scoped checkout asks
        after each statement that ended outside one. A look only: the entry
        stays checked out.
        """
        clean = entry.clean
        if clean is None or self.options.reset_on_return != RESET_AUTO:
            return False
        connection = entry.connection
        return (clean[4](connection) == clean[1]
                and not self._needs_reset(connection, clean, monotonic()))

    def note(self, counter):
        """Count one event of ``counter`` (a dbpool.stats counter) in this pool's statistics."""
        self._count(counter)

    def session_prepared(self, entry):
        """The borrower set up a new or reset session: that is now its clean state."""
        self._mark_clean(entry, prepared=True)

    def _mark_clean(self, entry, prepared):
        # After a reset (the borrower's set-up is to come) or that set-up.
        if entry.clean is not None:
            entry.clean = tracking.baseline(entry.connection, entry.clean)
            tracking.start_clean(entry.connection)
        entry.prepared = prepared

    def resets_session(self):
        """True when a returned connection's session state is cleared (unless 'rollback')."""
        return self.options.reset_on_return != RESET_ROLLBACK

    def keep_session_settings(self, entry, settings):
        """Have each reset of ``entry`` put these (name, value) settings back."""
        entry.reset_sql = health.build_reset_sql(
            self.options.reset_on_return, self._time_zone, restore=settings)

    def discard(self, entry, reason=stats.DISCARD_BROKEN):
        """Close a checked-out entry instead of returning it."""
        if entry.pid != current_pid():
            return
        if not entry.claim_back():
            self._refuse(entry, 'discard')
            return
        self._end_borrow(entry)
        used = elapsed(entry.borrowed_at)
        if stats.LISTENERS:
            stats.notify(self, stats.EVENT_USE, used)
        self._discard(entry, reason, used_s=used)

    def _refuse(self, entry, what):
        # Two closes of one wrapper (two threads sharing it), or a caller's
        # bug: handing the connection on twice would give it two borrowers.
        logger.warning('dbpool: %s ignored a %s of %r, which is not checked out '
                       '(given back twice?)', self.name, what, entry)

    def _end_borrow(self, entry):
        leaks.release_owner(entry)
        if entry.leak_reported:
            logger.warning('dbpool: %s got back a connection reported as leaked, after %.1f s',
                           self.name, monotonic() - entry.borrowed_at)

    def reclaim(self, entry, owner_ref):
        """Queue a checked-out entry whose borrower is gone; housekeeping closes it.

        ``owner_ref`` is the checkout's weak reference to its borrower: the
        entry may have been given back (by another thread) and borrowed again
        before housekeeping runs, and that later checkout must be left alone.
        """
        self._reclaimed.append((entry, owner_ref))

    def _discard(self, entry, reason, keep_slot=False, used_s=None):
        # A connection that broke is news; one closed by policy is routine.
        level = logging.WARNING if reason in stats.FAILURE_REASONS else logging.INFO
        logger.log(level, 'dbpool: %s closed %r (%s)', self.name, entry, reason)
        # Closed before its slot is free, so that a connection opened in
        # that slot never makes one more than MAX_CONNS.
        health.close_quietly(entry.connection)
        with self._lock:
            self._in_use.discard(entry)
            self._counters['discarded_' + reason] += 1
            if used_s is not None:  # given back by its borrower, not found bad idle
                self._record_use(used_s)
            if keep_slot:
                self._opening += 1
            else:
                self._slot_freed()

    def _hand_over(self, entry):
        # Lock held. The first waiter gets the entry; else it goes on the stack.
        if self._waiters:
            self._in_use.add(entry)
            self._waiters.popleft().serve(entry)
        else:
            self._idle.append(entry)

    def _slot_freed(self):
        # Lock held, a connection of this pool closed or never opened: the
        # first waiter may open one, here or (replaced) in the heir.
        heir = self._heir
        if heir is None:
            self._pass_slot_on()
            return
        self._changed.notify_all()  # close() may be waiting for _opening
        self._leave_heir_if_empty()
        heir._pass_slot_on()

    def _leave_heir_if_empty(self):
        # Lock held: a closed pool with nothing left out no longer counts.
        heir = self._heir
        if self._closed and not self._outstanding() and self in heir._elders:
            heir._elders.remove(self)

    def _pass_slot_on(self):
        # Lock held, a slot just freed: the first waiter may open a connection.
        if self._waiters and self._size() < self.options.max_conns:
            self._opening += 1
            self._waiters.popleft().serve()
        self._changed.notify_all()

    # -- Housekeeping ---------------------------------------------------------

    def run_housekeeping(self):
        """Reclaim and report leaks, close idle connections past their limits, refill."""
        self._reclaim_dead_borrowers()
        self._report_leaks(monotonic())
        to_close = self._plan_housekeeping(monotonic())
        for entry, reason in to_close:
            logger.info('dbpool: %s closed %r (%s)', self.name, entry, reason)
            health.close_quietly(entry.connection)
        if to_close:
            with self._lock:
                self._closing -= len(to_close)
                for _ in to_close:
                    self._slot_freed()
        self.fill()
        self._export.tick(monotonic(), self.label, self.stats)

    def _reclaim_dead_borrowers(self):
        while self._reclaimed:
            entry, owner_ref = self._reclaimed.popleft()
            # Checked and claimed in one step: a checkin by another thread
            # claims it first or finds it claimed, never both.
            with self._lock:
                still_out = (entry in self._in_use and entry.owner_ref is owner_ref
                             and entry.pid == current_pid() and entry.claim_back())
            if still_out:
                logger.warning('dbpool: %s reclaimed a connection whose borrower ended '
                               'without returning it (%s)', self.name,
                               entry.borrower or 'set LEAK_TIMEOUT to record where')
                leaks.release_owner(entry)
                self._discard(entry, stats.DISCARD_LEAKED)

    def _report_leaks(self, now):
        limit = self.options.leak_timeout
        if limit is None:
            return
        with self._lock:
            late = [entry for entry in self._in_use if not entry.leak_reported
                    and entry.borrowed_at is not None and now - entry.borrowed_at > limit]
            for entry in late:
                entry.leak_reported = True
            self._counters[stats.LEAKS_REPORTED] += len(late)
        for entry in late:
            logger.warning('dbpool: %s: a connection has been checked out for %.1f s '
                           '(LEAK_TIMEOUT=%s) by %s', self.name, now - entry.borrowed_at,
                           limit, entry.borrower)

    def _plan_housekeeping(self, now):
        options = self.options
        to_close = []
        with self._lock:
            if self._closed:
                return []
            kept = []
            # The stack's bottom holds the longest idle; retire from there.
            for entry in self._idle:
                reason = None
                if entry.is_expired(now):
                    reason = stats.DISCARD_LIFETIME
                elif (options.idle_timeout is not None
                      and now - entry.returned_at >= options.idle_timeout
                      and self._size() - len(to_close) > options.min_conns):
                    reason = stats.DISCARD_IDLE
                if reason is None:
                    kept.append(entry)
                else:
                    to_close.append((entry, reason))
                    self._counters['discarded_' + reason] += 1
            self._idle = kept
            self._closing += len(to_close)  # counted until closed
        return to_close

    def fill(self, wait=False):
        """Open idle connections, in this thread, until MIN_CONNS exist; how many it opened.

        Stops at the first connection that cannot be opened (logged), and
        does nothing in a closed pool. With ``wait``, also waits (up to
        CLOSE_WAIT_S) for connections another thread is opening meanwhile
        (the housekeeper fills a new pool too), so that they are open when
        it returns.
        """
        opened = 0
        # One slot at a time, so that a refill that fails (the server is
        # down or full) or a close() meanwhile leaves no slot reserved.
        while self._reserve_refill():
            if not self._open_idle():
                return opened
            opened += 1
        deadline = monotonic() + CLOSE_WAIT_S
        while wait and monotonic() < deadline:
            with self._lock:
                if not self._opening or self._closed:
                    break
            time.sleep(0.01)  # a connection handed over notifies nobody
        return opened

    def _reserve_refill(self):
        # A slot for one more idle connection, while below MIN_CONNS.
        with self._lock:
            if self._closed or self._size() >= self.options.min_conns:
                return False
            self._opening += 1
            return True

    def _open_idle(self):
        """Open one connection in a reserved slot and make it idle; False on failure."""
        try:
            entry = self._open_entry()
        except Exception:
            return False  # _open_entry logged it
        with self._lock:
            if not self._closed:
                self._opening -= 1
                self._hand_over(entry)
                return True
        self._close_in_slot(entry)
        return False

    # -- Closing ------------------------------------------------------------

    def close(self, wait=True):
        """Close idle connections now and checked-out ones when they come back.

        With ``wait``, also wait (up to CLOSE_WAIT_S) for connections being
        opened, and close them: nothing of this pool is left on the server
        after it, but what is still checked out. Without, a connection being
        opened for a borrower is still lent to it, and closed at its checkin
        (a pool replaced by a newer one for the same alias: the borrower
        asked for the older settings).
        """
        with self._lock:
            # Still counted (by an heir) until they are closed, below; a
            # second close() has none left to close.
            idle = [] if self._closed else list(self._idle)
            self._closed = True
            self._lend_in_flight = not wait
            for entry in self._in_use:
                entry.doomed = True
            while self._waiters:
                self._waiters.popleft().serve(closed=True)
            self._counters['discarded_' + stats.DISCARD_RETIRED] += len(idle)
        for entry in idle:
            health.close_quietly(entry.connection)
        with self._lock:
            self._idle = []
            heir = self._heir
            if heir is not None:
                self._leave_heir_if_empty()
                for _ in idle:  # room for the heir's waiters
                    heir._pass_slot_on()
            deadline = monotonic() + CLOSE_WAIT_S
            while wait and self._opening and monotonic() < deadline:
                self._changed.wait(deadline - monotonic())
        if idle:
            logger.info('dbpool: %s closed, %d idle connections closed', self.name, len(idle))

    @property
    def closed(self):
        """True once close() was called."""
        return self._closed

    @property
    def drained(self):
        """True once stop_lending() (or drain()) was called."""
        return self._drained

    def stop_lending(self):
        """Refuse every checkout from now on (PoolDrained) and close the idle connections.

        The first half of drain(). A connection being opened for a borrower
        that asked before is still lent to it; every connection checked out
        is closed when it comes back.
        """
        with self._lock:
            self._drained = True
        self.close(wait=False)

    def drain(self, timeout=DRAIN_TIMEOUT_S):
        """Stop lending, wait up to ``timeout`` s for checked-out connections, close them all.

        Every connection is closed by the driver's close(), which says
        goodbye to the server (the protocol's Terminate message). Returns
        how many were still checked out (or being opened) when the time
        ran out: they are left to their borrowers, never closed under them,
        and closed when they come back.
        """
        self.stop_lending()
        deadline = monotonic() + timeout
        while True:
            # A borrower that ended without a checkin (its thread is gone)
            # gives nothing back: close its connection now, not at exit.
            self._reclaim_dead_borrowers()
            with self._lock:
                out = len(self._in_use) + self._opening + self._closing
                remaining = deadline - monotonic()
                if not out or remaining <= 0:
                    break
                # Bounded slices: a checkin notifies, a reclaim may not.
                self._changed.wait(min(remaining, 0.1))
        if out:
            logger.warning('dbpool: %s drained for %.1f s, %d connections still checked out: '
                           'closed when they come back', self.name, timeout, out)
        else:
            logger.info('dbpool: %s drained, every connection closed', self.name)
        return out

    def follow(self, previous):
        """Take over from ``previous``, the pool of the same alias this one replaces.

        Called before this pool is used. Both keep one MAX_CONNS: what
        ``previous`` (and the pools it replaced) still has checked out or
        being opened counts here until it comes back, and the slots it frees
        go to this pool's waiters.
        """
        self._lock = previous._lock
        self._changed = threading.Condition(self._lock)
        with self._lock:
            self._elders = [pool for pool in previous._elders + [previous]
                            if pool._outstanding() or not pool._closed]
            for pool in self._elders:
                pool._heir = self

    def abandon(self):
        """Forget every connection without closing it (the process was forked).

        Closing would send the server a goodbye on a socket the parent still
        uses; the caller keeps this pool referenced so the driver never
        closes them on garbage collection either.
        """
        self._closed = True
        self._waiters = collections.deque()

    # -- Statistics -----------------------------------------------------------

    def stats(self):
        """A snapshot of the live measures and counters."""
        with self._lock:
            return self._snapshot()

    def pop_stats(self):
        """Like stats(), then zero the counters and the histograms."""
        with self._lock:
            snapshot = self._snapshot()
            self._counters = stats.new_counters()
            self._new_distributions()
            return snapshot

    def _snapshot(self):
        snapshot = dict(self._counters)
        stats.add_histogram(snapshot, stats.WAIT_MS_HISTOGRAM, self._waits)
        stats.add_histogram(snapshot, stats.USE_MS_HISTOGRAM, self._uses)
        stats.add_histogram(snapshot, stats.CONNECT_MS_HISTOGRAM, self._connects)
        snapshot.update({
            stats.CONNECTIONS_OPEN: len(self._idle) + len(self._in_use),
            stats.CONNECTIONS_IDLE: len(self._idle),
            stats.CONNECTIONS_IN_USE: len(self._in_use),
            stats.CONNECTIONS_OPENING: self._opening,
            stats.WAITING: len(self._waiters),
            stats.CONNECTIONS_RETIRING: self._elders_out(),
            'max_conns': self.options.max_conns,
            'min_conns': self.options.min_conns,
            'closed': self._closed,
            'name': self.name,
            'alias': self.label,
            'dbname': self.dbname,
        })
        return snapshot

    # -- Helpers ----------------------------------------------------------------

    def _size(self):
        # Lock held: connections that exist or are being opened, counting
        # those of the pools this one replaced. A replaced pool not closed
        # yet asks its heir, which counts them all.
        if self._heir is not None:
            return self._heir._size()
        return self._outstanding() + self._closing + self._elders_out()

    def _outstanding(self):
        # Lock held.
        return len(self._idle) + len(self._in_use) + self._opening

    def _elders_out(self):
        # Lock held.
        return sum(pool._outstanding() for pool in self._elders)

    def _new_distributions(self):
        # Lock held (or the pool not yet shared): zeroed bucket counts.
        self._waits = stats.new_buckets()
        self._uses = stats.new_buckets()
        self._connects = stats.new_buckets()

    def _count(self, key):
        with self._lock:
            self._counters[key] += 1
