"""The Django-side glue every era shares: pool lookup, checkout and checkin.

Era modules in ``dbpool.compat`` decide *when* to call these (which Django
hook); this module decides *what* happens, the same on every release.
"""
from __future__ import absolute_import, division, print_function

import logging
import weakref

from django.core.exceptions import ImproperlyConfigured

from dbpool import health, leaks, registry, secrets, stats, tracking
from dbpool.compat import CreationHooks
from dbpool.db import borrowers, credentials, health_checks, scope, signals, stats_export
from dbpool.db import errors as django_errors
from dbpool.db.targets import (  # noqa: F401 - also this module's names since 1.0
    close_pools_for_alias, close_pools_for_database, dbname, describe_target,
    strip_pool_options)
from dbpool.errors import PoolClosed, PoolDrained, PoolTimeout
from dbpool.forking import current_pid
from dbpool.options import parse_pool_options
from dbpool.pool import ConnectionPool
from dbpool.pycompat import monotonic, raise_from

logger = logging.getLogger('dbpool')

# Connection parameters that do not tell two targets apart, so are not
# part of a pool's key: psycopg 3's adapters map ('context') is rebuilt on
# every call, and follows the time zone, which the session identity
# already covers; the cursor class is a borrower's choice (below), and a
# wrapper may make a new one at every call (django-prometheus 2.5 does).
_UNKEYED_PARAMS = frozenset(['context', 'cursor_factory'])

# Connection parameters that are plain attributes of the driver connection
# and belong to the borrower, not to the session: set on the connection at
# each checkout through Django's connect(), to the borrower's value or, if
# its parameters name none, the one the connection was opened with. The
# pool puts its baseline value back at checkin (dbpool.tracking).
_BORROWER_ATTRIBUTES = ('cursor_factory',)


_creation_classes = {}


def _pooled_creation_class(creation_class):
    """``creation_class`` with the era's CreationHooks in front (one class each)."""
    pooled = _creation_classes.get(creation_class)
    if pooled is None:
        pooled = type(str('Pooled' + creation_class.__name__), (CreationHooks, creation_class), {})
        _creation_classes[creation_class] = pooled
    return pooled


def _hashable(value):
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


# libpq settings every pooled connection gets unless OPTIONS names them.
# A pooled connection lives for an hour and sits idle between requests, so
# a peer that vanished (host down, NAT entry expired) must show up on its
# own: TCP keepalives make the kernel probe idle sockets and fail them
# within about a minute, which the pool's checkout sees without a round
# trip. connect_timeout keeps a checkout from hanging on an unreachable
# host while it opens a connection.
CONNECT_DEFAULTS = {
    'connect_timeout': 10,
    'keepalives': 1,
    'keepalives_idle': 30,
    'keepalives_interval': 10,
    'keepalives_count': 3,
}


_OPENED_WITH = object()  # no value in the borrower's parameters


def _set_borrower_attributes(connection, conn_params):
    """Give the driver connection this borrower's own attributes (_BORROWER_ATTRIBUTES)."""
    for index, name in enumerate(_BORROWER_ATTRIBUTES):
        value = conn_params.get(name, _OPENED_WITH)
        if value is _OPENED_WITH:
            opened_with = getattr(connection, '_dbpool_opened_with', None)
            if opened_with is None:
                continue
            value = opened_with[index]
        if getattr(connection, name) is not value:
            setattr(connection, name, value)


class _Connector(object):
    """Opens physical connections for one pool through a private wrapper.

    A fresh wrapper per connection keeps Django's own get_new_connection
    (driver set-up, adapters) without touching any thread's wrapper, so the
    housekeeper thread can use it too. The settings and parameters are kept
    with their secrets hidden (dbpool.secrets), and revealed only here.
    With OPTIONS['CREDENTIALS'], its provider is asked here, for each
    connection, and what it gives is laid over the parameters for that
    connection only (dbpool.credentials).
    """

    def __init__(self, wrapper_class, settings_dict, alias, conn_params):
        self._wrapper_class = wrapper_class
        self._settings_dict = secrets.hide_dict(settings_dict)
        self._alias = alias
        self._conn_params = secrets.hide_dict(conn_params)
        self._credentials = credentials.settings_provider(settings_dict, alias)

    def __call__(self):
        wrapper = self._wrapper_class(secrets.reveal_dict(self._settings_dict), self._alias)
        params = dict(CONNECT_DEFAULTS)
        params.update(secrets.reveal_dict(self._conn_params))
        if self._credentials is not None:
            params = credentials.with_credentials(self._credentials, self._alias, params)
        if wrapper._dbpool_driver().__name__.split('.')[0] == 'psycopg2':
            # Its connection classes are C types: the pool can track what a
            # session did only on a subclass chosen when it is opened.
            params['connection_factory'] = tracking.psycopg2_connection_factory(
                params.get('connection_factory'))
        connection = wrapper._dbpool_open_physical(params)
        try:
            connection._dbpool_opened_with = tuple(
                getattr(connection, name, None) for name in _BORROWER_ATTRIBUTES)
        except AttributeError:
            pass  # a driver class without an instance dict: borrowers' values only
        return connection

    def __repr__(self):
        return '<dbpool connector for %s>' % self._alias


class PoolingMixin(object):
    """Pool glue for Django's DatabaseWrapper; the era's ConnectionHooks call it."""

    _dbpool_entry = None
    _dbpool_pool = None
    # (params, session identity, pool, settings) of the last lookup, made in
    # Django's connect(); settings (a copy, or None with AUTOCOMMIT off) let
    # later checkouts skip connect() (_dbpool_fast_connect). Both copies
    # hold their secrets hidden (dbpool.secrets): equal to the plain values,
    # never shown by a repr.
    _dbpool_last_pool = None
    # An entry the fast path took but could not use (its session not set up
    # by Django yet): Django's connect() then gets it.
    _dbpool_pending = None
    # The connection object last given back, and whether a close now means
    # Django judged the current one unusable (then it is closed, not lent).
    _dbpool_given_back = None
    _dbpool_rejected = False
    # CHECKOUT_SCOPE='transaction' (dbpool.db.scope): set once a borrow is
    # set up, whether it may end after a statement; whether it was pinned;
    # the count of driver cursors Django made in it.
    _dbpool_scoped = False
    _dbpool_pinned = False
    _dbpool_cursor_mark = None
    # (entry, pool) given back untouched after a statement, for this wrapper
    # to take again at its next one (dbpool.db.scope); dropped at a request's end.
    _dbpool_parked = None

    def __init__(self, *args, **kwargs):
        # Forwarded untouched: the keywords differ between releases.
        super(PoolingMixin, self).__init__(*args, **kwargs)
        # The live cursors of this wrapper that read ahead when the connection goes back.
        self._dbpool_scoped_cursors = weakref.WeakSet()
        # Put the test-database hooks in front of whatever creation class
        # this release (or PostGIS) installed.
        self.creation = _pooled_creation_class(type(self.creation))(self)

    def cursor(self, *args, **kwargs):
        cursor = super(PoolingMixin, self).cursor(*args, **kwargs)
        if self._dbpool_scoped:
            return scope.scoped_cursor(self, cursor)
        return cursor

    def _dbpool_cursor(self):
        """Django's own cursor (checking out if need be), for a ScopedCursor's next statement."""
        return super(PoolingMixin, self).cursor()

    def _dbpool_cursors_made(self):
        """How many cursors the driver connection made so far (None when not tracked)."""
        return getattr(self.connection, '_dbpool_cursors', None)

    def _dbpool_cursor_made(self, cursor, made_before):
        """Django made ``cursor`` for its own cursor(): tracked, and not a use behind its back."""
        if self._dbpool_entry is not None:
            tracking.track_cursor(cursor)
            if self._dbpool_scoped:
                scope.count_cursors(self, made_before)

    @classmethod
    def _dbpool_opener_class(cls):
        """The wrapper class whose get_new_connection opens this pool's connections."""
        return cls

    def _dbpool_checkout(self, conn_params):
        """Check a connection out of this target's pool (inside Django's connect())."""
        pending, self._dbpool_pending = self._dbpool_pending, None
        if pending is not None:
            entry, pool = pending
        else:
            pool = self._dbpool_pool_for(conn_params)
            deadline = monotonic() + pool.options.pool_timeout
            closed = 0
            while True:
                try:
                    entry = self._dbpool_take(pool, max(0.0, deadline - monotonic()))
                    break
                except PoolClosed as exc:
                    if isinstance(exc, PoolDrained):
                        raise  # a shutdown: no successor to look up (dbpool.db.lifecycle)
                    # Closed between lookup and checkout (settings changed,
                    # test database dropped): the registry has its successor.
                    closed += 1
                    if monotonic() >= deadline:
                        self._dbpool_raise_closed(pool, closed)
                    pool = self._dbpool_pool_for(conn_params)
        self._dbpool_hold(entry, pool)
        _set_borrower_attributes(entry.connection, conn_params)
        return entry.connection

    def _dbpool_take(self, pool, timeout=None):
        try:
            return pool.checkout(timeout, describe=borrowers.current_request)
        except PoolTimeout as exc:
            raise_from(django_errors.PoolTimeout(*exc.args), exc)
        except PoolDrained as exc:
            raise_from(django_errors.PoolDrained(*exc.args), exc)

    def _dbpool_raise_closed(self, pool, times):
        raise django_errors.PoolClosed(
            "dbpool: the pool for alias '%s' was closed %d times while a connection was "
            "being checked out, for POOL_TIMEOUT=%s s: its settings kept changing (each "
            "change replaces the pool; the log names what changed) or something kept "
            "closing its pools (close_pools_for_alias, a DROP DATABASE). Keep the alias' "
            "settings and connection parameters the same from one connect to the next."
            % (self.alias, times, pool.options.pool_timeout))

    def _dbpool_hold(self, entry, pool):
        self._dbpool_entry = entry
        self._dbpool_pool = pool
        self._dbpool_given_back = None
        if not getattr(self, 'allow_thread_sharing', False):  # 1.4+: shared wrappers
            # A shared wrapper is held by whichever threads use it, not by
            # the one that happened to connect: that thread may end first.
            leaks.watch_owner(pool, entry)

    def _dbpool_fast_connect(self):
        """Check out without Django's connect() when nothing it does would change anything.

        That is when this wrapper's settings and session identity are those
        of its last connect() and the session lent was set up by Django and
        not reset since (``entry.prepared``): the parameters, the session
        set-up and ``connection_created`` would all repeat what the session
        already has. Here only the wrapper's own state is put as connect()
        leaves it. True when connected; else Django's connect() runs, and
        gets the entry taken here, if any.
        """
        if getattr(self, 'in_atomic_block', False):
            return False
        pool = self._dbpool_same_target()
        if pool is None:
            return False
        settings_dict = self.settings_dict
        try:
            entry = self._dbpool_take(pool)
        except PoolClosed:
            return False
        if not entry.prepared:
            self._dbpool_pending = (entry, pool)
            return False
        self._dbpool_hold(entry, pool)
        # What connect() sets on the wrapper in any release from 1.6 (an
        # attribute a release does not read is harmless to it).
        self.in_atomic_block = False
        self.savepoint_ids = []
        self.atomic_blocks = []
        self.needs_rollback = False
        self.closed_in_transaction = False
        self.errors_occurred = False
        self.health_check_enabled = settings_dict.get('CONN_HEALTH_CHECKS', False)
        self.health_check_done = True
        # CONN_MAX_AGE is 0 (checked when the pool was made): due at once, so
        # the end of the request gives the connection back.
        self.close_at = 0.0
        self.connection = entry.connection
        self.autocommit = True  # the fast path is taken only with AUTOCOMMIT on
        self.run_on_commit = []
        signals.after_checkout(self)
        return True

    def _dbpool_same_target(self):
        """The pool of this wrapper's last connect(), if its settings and session identity still hold."""
        last = self._dbpool_last_pool
        if (last is None or last[3] is None or last[2].closed
                or self.settings_dict != last[3] or self._dbpool_session_identity() != last[1]):
            return None
        return last[2]

    def _dbpool_give_back_pending(self):
        """Check in an entry the fast path took if Django's connect() failed before using it."""
        pending, self._dbpool_pending = self._dbpool_pending, None
        if pending is not None:
            pending[1].checkin(pending[0])

    def _dbpool_checkin(self):
        """Give the current connection back (or close it: inside atomic(), or rejected)."""
        entry, pool = self._dbpool_let_go()
        rejected = self._dbpool_rejected
        self._dbpool_rejected = False
        if getattr(self, 'in_atomic_block', False):  # atomic() arrived in 1.6
            # Django keeps the connection object on the wrapper after a close
            # inside atomic() and raises on its next use; the pool must not
            # hand the same session to somebody else meanwhile.
            pool.discard(entry, stats.DISCARD_IN_ATOMIC)
        elif rejected:
            pool.discard(entry, stats.DISCARD_UNUSABLE)
        elif (pool.options.writable_target is not None
              and health.reports_read_only(entry.connection, pool.options.writable_target)):
            # Its server turned read-only (a write failed with SQLSTATE 25006
            # and the server said so with the error): the next request gets a
            # new connection, which target_session_attrs sends to the primary.
            pool.discard(entry, stats.DISCARD_READ_ONLY)
        else:
            pool.checkin(entry)

    def _dbpool_park(self):
        """Give the connection back untouched after a statement, for this wrapper to take again.

        Not through Django's close(): the wrapper stays as connect() left
        it, so that taking the same connection back (_dbpool_unpark) needs
        nothing set again. The next statement checks out as usual if
        another borrower took it meanwhile.
        """
        entry, pool = self._dbpool_let_go()
        self._dbpool_parked = (entry, pool)
        self.connection = None
        pool.checkin(entry, untouched=True)

    def _dbpool_let_go(self):
        """(entry, pool) of the current borrow, which this wrapper no longer holds."""
        entry, pool = self._dbpool_entry, self._dbpool_pool
        self._dbpool_entry = self._dbpool_pool = None
        self._dbpool_scoped = False
        self._dbpool_given_back = entry.connection
        return entry, pool

    def _dbpool_unpark(self):
        """Take back the connection this wrapper parked, if still idle; True when it did."""
        parked = self._dbpool_parked
        if parked is None:
            return False
        self._dbpool_parked = None
        entry, pool = parked
        if pool is not self._dbpool_same_target() or not pool.lend_again(
                entry, scope.PARKED_AT_MOST_S):
            return False
        self._dbpool_hold(entry, pool)
        self.connection = entry.connection
        signals.after_lent_again(self)
        return True

    def _dbpool_holds_given_back(self):
        """True when wrapper.connection is one this wrapper already gave back."""
        # Django's close() clears wrapper.connection right after _close();
        # only a bare _close() (Django's own tests emulate a server
        # disconnect so) leaves the pool's connection here.
        return self.connection is not None and self.connection is self._dbpool_given_back

    def _dbpool_drop_inherited(self):
        """Forget a connection opened before a fork, through close() but without closing it."""
        entry = self._dbpool_entry
        if entry is None or entry.pid == current_pid():
            return
        # The parent's pool, kept by the registry, keeps it referenced.
        leaks.release_owner(entry)
        try:
            # The wrapper's own close(): a wrapper stacked on ours forgets
            # what it cached about the session there (django-tenants' "search
            # path already set"). It reaches our checkin, which leaves an
            # entry of another process alone: no rollback, reset or close.
            self.close()
        finally:
            self._dbpool_entry = self._dbpool_pool = None
            self._dbpool_given_back = None
            self.connection = None

    def _dbpool_pool_for(self, conn_params):
        params = conn_params.copy()
        for name in _UNKEYED_PARAMS:
            params.pop(name, None)
        provider = self.settings_dict['OPTIONS'].get(credentials.KEY)
        if provider is not None:
            # The provider itself, never what it returns: a rotated password
            # is still the same pool.
            params[credentials.KEY] = provider
        identity = self._dbpool_session_identity()
        # Every checkout asks, with the same answer nearly always: compare
        # with this wrapper's last question rather than build the sorted key
        # (the costliest step of a checkout). A pool closed since (settings
        # changed, database dropped, fork) is looked up again; current_pid()
        # notices a fork where Python has no fork hook.
        current_pid()
        cached = self._dbpool_last_pool
        if (cached is not None and not cached[2].closed
                and cached[1] == identity and cached[0] == params):
            return cached[2]
        # A password is in the key as a digest only.
        key = (self.alias,
               tuple(sorted((name, _hashable(secrets.key_value(name, value)))
                            for name, value in params.items())),
               identity)
        pool = registry.get_pool(key, self.alias, lambda: self._dbpool_new_pool(conn_params))
        settings_dict = self.settings_dict
        settings = None
        if settings_dict.get('AUTOCOMMIT', True):
            settings = secrets.hide_dict(settings_dict)
        # Copies whose secrets compare as the plain values but never show.
        self._dbpool_last_pool = (secrets.hide_dict(params), identity, pool, settings)
        return pool

    def _dbpool_new_pool(self, conn_params):
        options = self._dbpool_checked_options()
        target = describe_target(conn_params)
        pool = ConnectionPool(
            connect=_Connector(self._dbpool_opener_class(), self.settings_dict, self.alias,
                               conn_params),
            options=options,
            name="pool for alias '%s' (%s)" % (self.alias, target),
            time_zone=self._dbpool_time_zone(),
            label=self.alias,
            dbname=dbname(conn_params),
        )
        if options.leak_timeout is not None:
            borrowers.remember_requests()
        logger.info('dbpool: created %s with MAX_CONNS=%d, MIN_CONNS=%d',
                    pool.name, options.max_conns, options.min_conns)
        return pool

    def _dbpool_refuse_native_pool(self):
        """Django's own pool (OPTIONS['pool'], 5.1+) cannot run inside ours."""
        if self.settings_dict['OPTIONS'].get('pool'):
            raise ImproperlyConfigured(
                "DATABASES['%s']['OPTIONS']['pool'] turns on Django's own connection pool, "
                "which cannot run inside dbpool's. Remove 'pool' and size dbpool's pool "
                "with MAX_CONNS and MIN_CONNS instead." % self.alias)

    def _dbpool_checked_options(self):
        """Parse our OPTIONS keys; ImproperlyConfigured names what to change."""
        where = "DATABASES['%s']['OPTIONS']" % self.alias
        settings_dict = self.settings_dict
        try:
            options = parse_pool_options(settings_dict['OPTIONS'], where)
        except ValueError as exc:
            raise ImproperlyConfigured(str(exc))
        stats_export.resolve_stats_callback(options, where)
        health_checks.resolve_health_check(options, where)
        max_age = settings_dict.get('CONN_MAX_AGE', 0)
        if max_age != 0:
            raise ImproperlyConfigured(
                "DATABASES['%s']['CONN_MAX_AGE'] is %r: persistent connections would pin "
                "one pooled connection to each thread. Set CONN_MAX_AGE to 0 (the default); "
                "the pool keeps connections open, and MAX_LIFETIME limits their age."
                % (self.alias, max_age))
        if settings_dict.get('CONN_HEALTH_CHECKS'):
            # Django marks every connection from connect() as healthy, so
            # a reused one must be checked by the pool at checkout instead.
            options.test_on_borrow = True
        return options
