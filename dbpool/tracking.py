"""Knowing, without asking the server, whether a borrower left its session as it found it.

A pooled connection is *tracked* when it is one of the driver subclasses
below: every statement that goes through any of its cursors (Django's, or
``connection.connection.cursor()`` of the raw driver connection, whatever
``cursor_factory``) is judged by ``dbpool.statements`` and the verdict
accumulates on the connection until the pool takes it back. With psycopg 3
a cursor made some other way (``psycopg.Cursor(conn)``) still passes
through the connection, which then counts its statement as unknown.

At checkin the pool compares the session with the *baseline* it recorded
when the session was last known clean: the statements' verdicts, the
parameters the server reports by itself whenever they change (time zone,
client encoding, date style, role, ...), and the state the driver
object keeps on the client side (isolation level, read-only, the cursor
and row factories, adapters, notice and notify handlers). Only a session
that differs gets the reset round trip; the driver object's state is put
back without one, at every checkin whatever the policy (restore_driver).

A data statement can run code it does not name (triggers, rules, views,
defaults, policies): ``DatabaseCode`` asks the catalog, now and then, which
functions such objects call, and data statements count as harmless only
while every one of them is known to change no session state.
"""
from __future__ import absolute_import, division, print_function

import contextlib
import logging
import operator

from dbpool import health, secrets, statements
from dbpool.pycompat import monotonic, string_types

logger = logging.getLogger('dbpool')

SESSION = statements.SESSION
UNKNOWN = statements.UNKNOWN
SEED = statements.SEED
RUNS_CODE = statements.RUNS_CODE
CATALOG = statements.CATALOG

# Reported by the server with every change (ParameterStatus), so reading
# them costs no round trip. search_path from PostgreSQL 18 (None before).
REPORTED_PARAMETERS = ('TimeZone', 'client_encoding', 'DateStyle', 'IntervalStyle',
                       'standard_conforming_strings', 'application_name',
                       'session_authorization', 'is_superuser',
                       'default_transaction_read_only', 'search_path')
_REPORTED_BYTES = tuple(name.encode('ascii') for name in REPORTED_PARAMETERS)

# What the driver connection object keeps on the client side, by driver:
# settings (isolation level, read-only, cursor and row factories, ...), the
# handlers, type adapters and lists a borrower may add to, and psycopg2's
# idea of the client encoding (the server reports its own, psycopg2's is
# not). Any a release lacks is left out (see _driver_state).
_PSYCOPG2_STATE = ('isolation_level', 'readonly', 'deferrable', 'cursor_factory', 'encoding',
                   'notices', 'notifies', 'string_types', 'binary_types')
# psycopg 3's adapters are an AdaptersMap that copies its tables on first
# write once another map was made from it (every cursor makes one, and so
# does the baseline, see _baseline_adapters): a registration shows as a
# table that is no longer the one the baseline saw.
_PSYCOPG3_STATE = ('_isolation_level', '_read_only', '_deferrable', '_prepared.prepare_threshold',
                   '_prepared.prepared_max', 'cursor_factory', 'server_cursor_factory',
                   'row_factory',
                   '_notice_handlers', '_notify_handlers', '_notifies_backlog',
                   '_adapters._dumpers', '_adapters._dumpers_by_oid', '_adapters._loaders',
                   '_adapters.types._registry')
# Compared by content against a copy taken with the baseline, as they are
# changed in place; the rest by value (or identity, for the types registry:
# a few hundred entries, replaced rather than changed).
_BY_CONTENT = frozenset(['notices', 'notifies', 'string_types', 'binary_types',
                         '_notice_handlers', '_notify_handlers', '_notifies_backlog',
                         '_adapters._dumpers', '_adapters._dumpers_by_oid',
                         '_adapters._loaders'])
_ADAPTERS = '_adapters.'
_TYPECASTERS = frozenset(['string_types', 'binary_types'])  # psycopg2's, per connection
# psycopg 3's settings are read below their properties (each a Python call
# on every checkin) and put back through them, which check the value.
_PUBLIC = {'_isolation_level': 'isolation_level', '_read_only': 'read_only',
           '_deferrable': 'deferrable', '_prepared.prepare_threshold': 'prepare_threshold',
           '_prepared.prepared_max': 'prepared_max'}
_state_getters = {}  # connection class -> (names, attrgetter)


def _begin_tracking(connection, trusted):
    connection._dbpool_bits = 0
    connection._dbpool_trusted = trusted
    connection._dbpool_held = []
    connection._dbpool_vouched = False
    # Cursors made on the connection (whoever made them): transaction-scoped
    # checkout compares it with the count of those Django made.
    connection._dbpool_cursors = 0


def _judge(connection, query):
    # Every tracked execute comes here first: the verdict counts even if
    # the statement then fails (part of it may have run).
    connection._dbpool_bits |= statements.classify(query, connection._dbpool_trusted)


# -- psycopg2 ------------------------------------------------------------------

class _Psycopg2CursorTracking(object):
    """The methods a tracked psycopg2 cursor class adds to its base (see _tracked_class)."""

    __slots__ = ()

    def execute(self, query, vars=None):
        connection = self.connection
        _judge(connection, query)
        if self.name is not None and self.withhold:
            connection._dbpool_held.append(self)
        return self._dbpool_base.execute(self, query, vars)

    def executemany(self, query, vars_list):
        _judge(self.connection, query)
        return self._dbpool_base.executemany(self, query, vars_list)

    def callproc(self, *args, **kwargs):
        self.connection._dbpool_bits |= UNKNOWN  # a function we cannot see into
        return self._dbpool_base.callproc(self, *args, **kwargs)

    def copy_expert(self, sql, *args, **kwargs):
        _judge(self.connection, sql)
        return self._dbpool_base.copy_expert(self, sql, *args, **kwargs)

    def copy_from(self, *args, **kwargs):
        self.connection._dbpool_bits |= RUNS_CODE  # the table's triggers
        return self._dbpool_base.copy_from(self, *args, **kwargs)

    def copy_to(self, *args, **kwargs):
        self.connection._dbpool_bits |= RUNS_CODE
        return self._dbpool_base.copy_to(self, *args, **kwargs)


class _Psycopg3CursorTracking(object):
    """What a tracked psycopg 3 cursor class (client, server, Django's) adds to its base."""

    __slots__ = ()

    def execute(self, query, *args, **kwargs):
        if getattr(self, 'withhold', False):
            self._conn._dbpool_held.append(self)
        return self._dbpool_call(self._dbpool_base.execute, query, args, kwargs)

    def executemany(self, query, *args, **kwargs):
        return self._dbpool_call(self._dbpool_base.executemany, query, args, kwargs)

    def stream(self, query, *args, **kwargs):
        # A generator: the statement is sent when the first row is asked for.
        connection = self._conn
        self._dbpool_judge(connection, query)
        connection._dbpool_vouched = True
        try:
            for row in self._dbpool_base.stream(self, query, *args, **kwargs):
                connection._dbpool_vouched = False
                yield row
        finally:
            connection._dbpool_vouched = False

    @contextlib.contextmanager
    def copy(self, statement, *args, **kwargs):
        # A context manager: the statement is sent when the block is entered.
        connection = self._conn
        self._dbpool_judge(connection, statement)
        connection._dbpool_vouched = True
        try:
            with self._dbpool_base.copy(self, statement, *args, **kwargs) as copy:
                connection._dbpool_vouched = False
                yield copy
        finally:
            connection._dbpool_vouched = False

    def _dbpool_call(self, method, query, args, kwargs):
        # Judged first, then vouched for while psycopg sends it.
        connection = self._conn
        self._dbpool_judge(connection, query)
        connection._dbpool_vouched = True
        try:
            return method(self, query, *args, **kwargs)
        finally:
            connection._dbpool_vouched = False

    def _dbpool_judge(self, connection, query):
        if not isinstance(query, (bytes,) + string_types):
            try:  # psycopg.sql.Composable
                query = query.as_string(self)
            except Exception:
                connection._dbpool_bits |= UNKNOWN
                return
        _judge(connection, query)


class _Psycopg3ConnectionTracking(object):
    """What a tracked psycopg.Connection class adds (an open connection takes that class).

    The cursor factories stay the ones Django or the user set (they are
    part of what users and Django's tests see); each cursor made takes a
    tracked subclass of its class instead. A cursor made another way is
    still seen by _start_query, as unknown.
    """

    __slots__ = ()

    def cursor(self, *args, **kwargs):
        self._dbpool_cursors += 1
        cursor = self._dbpool_base.cursor(self, *args, **kwargs)
        cursor.__class__ = _tracked_class(type(cursor), _Psycopg3CursorTracking)
        return cursor

    def _start_query(self):
        # Every cursor's statement passes here (psycopg's own funnel); one
        # that no tracked cursor vouched for is unknown.
        if not self._dbpool_vouched:
            self._dbpool_bits |= UNKNOWN
        return self._dbpool_base._start_query(self)


class _Psycopg2ConnectionTracking(object):
    """What a tracked psycopg2 connection class adds (see psycopg2_connection_factory)."""

    __slots__ = ()

    def __init__(self, *args, **kwargs):
        self._dbpool_base.__init__(self, *args, **kwargs)
        # Tracked from the start, also when not lent by a pool (dbpool_status's probe).
        _begin_tracking(self, frozenset())

    def cursor(self, *args, **kwargs):
        # psycopg2's cursor(name=None, cursor_factory=None, withhold=False, ...).
        self._dbpool_cursors += 1
        if len(args) >= 2:
            args = args[:1] + (_tracked_psycopg2_cursor(args[1] or self.cursor_factory),) \
                + args[2:]
        else:
            kwargs['cursor_factory'] = _tracked_psycopg2_cursor(
                kwargs.get('cursor_factory') or self.cursor_factory)
        return self._dbpool_base.cursor(self, *args, **kwargs)

    def __repr__(self):
        # psycopg2 shows its dsn with the password masked, but not
        # sslpassword (libpq 13+).
        return secrets.mask_conninfo(self._dbpool_base.__repr__(self))

    __str__ = __repr__  # psycopg2's str() is its repr


def _tracked_psycopg2_cursor(factory):
    if factory is None:
        import psycopg2.extensions
        factory = psycopg2.extensions.cursor
    return _tracked_class(factory, _Psycopg2CursorTracking)


_classes = {}
_NOT_COPIED = frozenset(['__module__', '__doc__', '__slots__', '__dict__', '__weakref__',
                         '__qualname__', '_dbpool_slot'])


def _tracked_class(base, methods):
    """``base`` with the methods of the holder class ``methods``: one class per pair.

    The tracked class derives from ``base`` alone and adds nothing to the
    instance layout (psycopg 3 objects change class in place); its methods
    reach the base class's through ``_dbpool_base``. It is kept on ``base``
    itself, so that it lives only as long as ``base`` does (a library may
    make a cursor class per connection); C types, which take no attributes,
    are few and are kept here.
    """
    if getattr(base, '_dbpool_methods', None) is methods:
        return base
    slot = methods._dbpool_slot
    # The class's own attribute, not one inherited from a tracked base.
    tracked = base.__dict__.get(slot) or _classes.get((base, methods))
    if tracked is None:
        namespace = dict((name, value) for name, value in vars(methods).items()
                         if name not in _NOT_COPIED)
        namespace.update(_dbpool_base=base, _dbpool_methods=methods)
        if methods in _SWAPPED:
            namespace['__slots__'] = ()
        tracked = type(str('Tracked' + base.__name__), (base,), namespace)
        try:
            setattr(base, slot, tracked)
        except TypeError:
            _classes[(base, methods)] = tracked
    return tracked


_SWAPPED = (_Psycopg3CursorTracking, _Psycopg3ConnectionTracking)
for _methods in (_Psycopg2CursorTracking, _Psycopg2ConnectionTracking) + _SWAPPED:
    # Where a base class keeps its tracked subclass (see _tracked_class).
    _methods._dbpool_slot = '_dbpool_tracked' + _methods.__name__.lower()
del _methods


def psycopg2_connection_factory(base=None):
    """A class for psycopg2.connect(connection_factory=...) whose cursors are tracked.

    ``base`` is the connection_factory the settings name, if any.
    """
    if base is None:
        import psycopg2.extensions
        base = psycopg2.extensions.connection
    return _tracked_class(base, _Psycopg2ConnectionTracking)


# -- What the pool calls ------------------------------------------------------------

def adopt(connection, trusted=frozenset()):
    """Start tracking ``connection``; False when its driver or class cannot be tracked.

    psycopg 3 connections are tracked in place (their class is swapped for
    a tracked subclass); psycopg2 ones only when opened with
    psycopg2_connection_factory(), since its classes are C types.
    """
    if getattr(connection, '_dbpool_methods', None) is _Psycopg2ConnectionTracking:
        _begin_tracking(connection, trusted)
        # What RESET ALL puts client_encoding back to (see reset_sql_for):
        # read before any set-up changes it.
        connection._dbpool_default_encoding = _psycopg2_spelling(
            connection.get_parameter_status('client_encoding'))
        return True
    pgconn = getattr(connection, 'pgconn', None)
    if pgconn is None or not hasattr(connection, '_start_query'):
        return False
    try:
        connection.__class__ = _tracked_class(type(connection), _Psycopg3ConnectionTracking)
    except TypeError:
        return False
    _begin_tracking(connection, trusted)
    return True


def track_cursor(cursor):
    """Track a psycopg 3 cursor made on a tracked connection without its cursor().

    Django 4.2+ makes its server-side cursors (iterator()) so; untracked,
    their statements would count as unknown. psycopg2 cursors always come
    from connection.cursor(), and are left alone.
    """
    connection = getattr(cursor, '_conn', None)
    if (getattr(connection, '_dbpool_methods', None) is _Psycopg3ConnectionTracking
            and getattr(cursor, '_dbpool_methods', None) is None):
        cursor.__class__ = _tracked_class(type(cursor), _Psycopg3CursorTracking)


def baseline(connection, previous=None):
    """What the clean session looks like, read without a round trip.

    (the parameters the server reports, a copy of the driver object's
    state, the objects themselves, their names, the getter that reads them).
    A ``previous`` baseline whose driver state still holds lends its copies.
    """
    reported = _reported(connection)
    if previous is not None and previous[4](connection) == previous[1]:
        return (reported,) + previous[1:]
    if getattr(connection, 'pgconn', None) is not None:
        _baseline_adapters(connection)
    names, getter = _driver_state(connection)
    objects = getter(connection)
    copies = tuple(type(value)(value) if name in _BY_CONTENT and value is not None else value
                   for name, value in zip(names, objects))
    return (reported, copies, objects, names, getter)


def _reported(connection):
    # The parameters the server reports, as it last reported them.
    pgconn = getattr(connection, 'pgconn', None)
    if pgconn is not None:
        return tuple(map(pgconn.parameter_status, _REPORTED_BYTES))
    return tuple(map(connection.get_parameter_status, REPORTED_PARAMETERS))


def _driver_state(connection):
    cls = type(connection)
    found = _state_getters.get(cls)
    if found is None:
        names = _PSYCOPG3_STATE if getattr(connection, 'pgconn', None) is not None \
            else _PSYCOPG2_STATE
        # A release without the private attribute is read through the property.
        names = tuple(name if _has_attribute(connection, name) else _PUBLIC.get(name, name)
                      for name in names)
        names = tuple(name for name in names if _has_attribute(connection, name))
        found = _state_getters[cls] = (names, operator.attrgetter(*names))
    return found


def _has_attribute(connection, dotted):
    try:
        operator.attrgetter(dotted)(connection)
        return True
    except AttributeError:
        return False


def _baseline_adapters(connection):
    # A copy of psycopg 3's AdaptersMap (copy-on-write, so cheap): what a
    # restore puts back, and the reason a later registration on the
    # connection's map copies the table it writes to.
    try:
        adapters = connection.adapters  # made on first use (the state reads _adapters)
        connection._dbpool_adapters = type(adapters)(adapters)
    except Exception:
        connection._dbpool_adapters = None


def start_clean(connection):
    """Forget what the statements so far did: the session is now the baseline."""
    connection._dbpool_bits = 0
    del connection._dbpool_held[:]


def session_changed(connection, clean):
    """True when a session statement ran or a reported parameter moved since ``clean``.

    A look only, for the glue: nothing is put back and the verdicts stay.
    """
    return bool(connection._dbpool_bits & SESSION) or _reported(connection) != clean[0]


def restore_driver(connection, clean, timeout=None):
    """Put the driver object's own state back as in the ``clean`` baseline, where it differs.

    Call it with no transaction open (both drivers refuse to change these
    settings inside one). No round trip, except for psycopg2 when the
    borrower changed its client encoding, or its session characteristics
    in autocommit (psycopg2 then sends them as SET default_transaction_*).
    False when the driver refused, or the server did not answer such a SET
    within ``timeout`` s (the connection should be closed).
    """
    if clean[4](connection) == clean[1]:
        return True
    try:
        with health.within(connection, timeout):
            _restore(connection, clean)
    except Exception as exc:
        logger.info('dbpool: could not put back the driver connection\'s settings, '
                    'closing it: %s', exc)
        return False
    return True


def _restore(connection, clean):
    current = clean[4](connection)
    adapters_done = False
    for name, now, value, original in zip(clean[3], current, clean[1], clean[2]):
        if now == value:
            continue
        if name.startswith(_ADAPTERS) or name in _TYPECASTERS:
            # Also what the session's set-up would add now (see
            # adapters_taken_away): it is asked to run again.
            connection._dbpool_adapters_taken = True
        if name.startswith(_ADAPTERS):
            if not adapters_done:
                _restore_adapters(connection)
                adapters_done = True
        elif name == 'encoding':
            # psycopg2 encodes with what it believes; put the server and it
            # back in step (the reported client_encoding is compared too).
            connection.set_client_encoding(value)
        elif name in _BY_CONTENT:
            # A list, dict or deque: the same object, with its old contents.
            if now is not original:
                setattr(connection, name, original)
            if isinstance(original, dict):
                original.clear()
                original.update(value)
            elif isinstance(original, list):
                original[:] = value
            elif original is not None:  # a deque
                original.clear()
                original.extend(value)
        else:
            setattr(connection, _PUBLIC.get(name, name), value)


def adapters_taken_away(connection):
    """True (once) when the last restore_driver() took type adapters off ``connection``.

    They may include some the session's own set-up registered after it
    ran (Django's contrib.postgres registers hstore on the connection a
    migration created it on): the caller has the set-up run again.
    """
    taken = getattr(connection, '_dbpool_adapters_taken', False)
    if taken:
        connection._dbpool_adapters_taken = False
    return taken


def _restore_adapters(connection):
    snapshot = getattr(connection, '_dbpool_adapters', None)
    if snapshot is not None:
        connection._adapters = type(snapshot)(snapshot)


def needs_reset(connection, clean, code_trusted):
    """True unless ``connection`` provably matches its ``clean`` baseline.

    Call it after restore_driver(): the driver object's own state is not
    compared here. ``code_trusted`` says whether data statements may be
    trusted (DatabaseCode.trusted). When the answer is False the session
    starts clean again.
    """
    bits = connection._dbpool_bits
    if (bits & SESSION or (bits & RUNS_CODE and not code_trusted)
            or _reported(connection) != clean[0]):
        return True
    for cursor in connection._dbpool_held:
        if not cursor.closed:
            return True  # a WITH HOLD cursor still open on the server
    start_clean(connection)
    return False


def _psycopg2_spelling(encoding):
    # psycopg2 names an encoding as the server does, less what is not a
    # letter or digit (SQL_ASCII is SQLASCII).
    return ''.join(char for char in encoding or '' if char.isalnum()).upper() or None


def reset_sql_for(connection, reset_sql, everything, code_trusted):
    """``reset_sql`` with what else the reset of ``connection`` must clear (see health.extend_reset).

    A new random seed when the session may have set one: with
    ``everything`` (RESET_ON_RETURN='full', which promises a clean session
    whatever happened), for a connection not tracked, or when it ran what
    the classifier cannot see into (SEED), or data statements while the
    database's own code is not trusted (``code_trusted``). psycopg2's
    client encoding when it is not the session's default, which the reset
    restores; psycopg 3 reads the encoding the server reports.
    """
    if reset_sql is None:
        return None
    bits = getattr(connection, '_dbpool_bits', None)
    reseed = (everything or bits is None or bits & SEED
              or (bits & RUNS_CODE and not code_trusted))
    encoding = None
    if getattr(connection, 'pgconn', None) is None:
        encoding = getattr(connection, 'encoding', None)
        if encoding == getattr(connection, '_dbpool_default_encoding', None):
            encoding = None
    return health.extend_reset(reset_sql, bool(reseed), encoding)


# -- The database's own code ----------------------------------------------------------

# What the database runs without a statement naming it, in two kinds of
# rows: ('call', name, origin, by a trigger) for the functions its triggers
# and event triggers call and for all its own functions (origin 'builtin',
# 'extension' or 'own'); ('expr', text, '', true) for the expressions of
# its views, rules, column defaults, check constraints, row-level policies
# and index expressions, whose calls of built-ins pg_depend does not record.
CODE_SQL = (
    "WITH fired AS (SELECT tgfoid AS oid FROM pg_trigger WHERE NOT tgisinternal "
    "UNION SELECT evtfoid FROM pg_event_trigger) "
    "SELECT 'call', p.proname, CASE WHEN n.nspname = 'pg_catalog' THEN 'builtin' "
    "WHEN EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass "
    "AND e.objid = p.oid AND e.deptype = 'e') THEN 'extension' ELSE 'own' END, "
    "p.oid IN (SELECT oid FROM fired) "
    "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
    "WHERE p.oid IN (SELECT oid FROM fired) "
    "OR (p.oid >= 16384 AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass "
    "AND e.objid = p.oid AND e.deptype = 'e')) "
    "UNION ALL SELECT 'expr', pg_get_viewdef(c.oid), '', true FROM pg_class c "
    "WHERE c.relkind IN ('v', 'm') AND c.oid >= 16384 "
    "UNION ALL SELECT 'expr', pg_get_ruledef(r.oid), '', true FROM pg_rewrite r "
    "WHERE r.rulename <> '_RETURN' AND r.oid >= 16384 "
    "UNION ALL SELECT 'expr', pg_get_expr(d.adbin, d.adrelid), '', true FROM pg_attrdef d "
    "WHERE d.oid >= 16384 "
    "UNION ALL SELECT 'expr', pg_get_constraintdef(k.oid), '', true FROM pg_constraint k "
    "WHERE k.contype = 'c' AND k.oid >= 16384 "
    "UNION ALL SELECT 'expr', concat_ws(' ', pg_get_expr(y.polqual, y.polrelid), "
    "pg_get_expr(y.polwithcheck, y.polrelid)), '', true FROM pg_policy y "
    "UNION ALL SELECT 'expr', pg_get_indexdef(i.indexrelid), '', true FROM pg_index i "
    "WHERE (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL) AND i.indexrelid >= 16384"
)

# Built-in trigger functions of PostgreSQL itself (full text, updates).
_BUILTIN_TRIGGER_PREFIXES = ('tsvector_update_trigger', 'suppress_redundant_updates_trigger')


class DatabaseCode(object):
    """Whether the code a data statement may run implicitly is known to be harmless.

    Unknown until first checked; rechecked every RECHECK_S seconds and after
    any statement that may have changed it (CREATE, ALTER, DROP, ...).
    """

    RECHECK_S = 30.0

    def __init__(self, trusted_names=frozenset()):
        self.trusted_names = trusted_names
        self.trusted = False
        self.checked_at = None
        self.suspects = ()

    def due(self, now, connection):
        """True when the checkin of ``connection`` should check again."""
        checked_at = self.checked_at
        if connection._dbpool_bits & CATALOG:
            return True  # the schema may have changed
        return checked_at is None or now - checked_at >= self.RECHECK_S

    def learn(self, rows, now):
        """Judge the rows of CODE_SQL."""
        trusted = self.trusted_names
        suspects = set()
        for kind, text, origin, implicit in rows:
            if kind == 'expr':
                suspects.update(statements.unknown_calls(text or '', trusted))
                continue
            name = text.lower()
            if name in trusted:
                continue
            if implicit:
                # A trigger's function: harmless only if it is one of
                # PostgreSQL's own known ones.
                if not (origin == 'builtin' and name.startswith(_BUILTIN_TRIGGER_PREFIXES)):
                    suspects.add(name)
            elif _known_by_name(name):
                # A function of the database's own is judged where a
                # statement names it, unless it could pass for a built-in.
                suspects.add(name)
        suspects = tuple(sorted(suspects))
        if suspects and suspects != self.suspects:
            logger.info('dbpool: data statements get the reset: the database runs functions '
                        'implicitly that may change session state (%s); if they do not, list '
                        "them in OPTIONS['TRUSTED_FUNCTIONS']", ', '.join(suspects[:10]))
        self.suspects = suspects
        self.trusted = not suspects
        self.checked_at = now


def _known_by_name(name):
    return name in statements.SAFE_FUNCTIONS or name.startswith(statements.SAFE_PREFIXES)


def check_code(code, connection, query_rows):
    """Run CODE_SQL on ``connection`` through ``query_rows(connection, sql)`` and learn.

    The catalog read itself leaves the session's verdict as it was.
    """
    bits = connection._dbpool_bits
    try:
        rows = query_rows(connection, CODE_SQL)
    finally:
        connection._dbpool_bits = bits
    code.learn(rows, monotonic())
