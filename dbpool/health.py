"""Liveness checks and the reset on return, for psycopg2 and psycopg 3 alike.

Both drivers expose what we need under the same names: ``closed``,
``autocommit``, ``rollback()``, ``cursor()``, ``fileno()`` and
``info.transaction_status`` (psycopg2 from 2.8).
"""
from __future__ import absolute_import, division, print_function

import contextlib
import logging
import select
import sys

from dbpool import watchdog
from dbpool.options import RESET_ROLLBACK

logger = logging.getLogger('dbpool')

TRANSACTION_IDLE = 0  # libpq's PQTRANS_IDLE, the same value in both drivers
CONNECTION_OK = 0     # libpq's CONNECTION_OK
_RESULT_OK = frozenset([1, 2])  # libpq's PGRES_COMMAND_OK, PGRES_TUPLES_OK

# One statement: the cheapest full reset. It puts TimeZone back to the
# session's default (the server's ``timezone`` setting).
DISCARD_ALL = 'DISCARD ALL'

# What DISCARD ALL does, spelt out, for when more must ride in the same
# round trip: DISCARD ALL refuses to run inside a transaction block, and a
# multi-statement query is one. SET TIME ZONE, so that Django's own check
# at the next checkout finds the zone right and sends nothing; the
# settings kept across resets; a new random seed; the client encoding
# psycopg2 believes in.
FULL_RESET_SQL = (
    'CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; '
    'SELECT pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; '
    'DISCARD SEQUENCES; DEALLOCATE ALL'
)

# What DISCARD ALL leaves: the seed of random() (setseed() lasts for the
# session), so the next borrower would get the same "random" numbers. A
# clean session's seed is one no earlier borrower chose: a new one from
# the clock and the backend's pid (hashtext() is PostgreSQL's own text
# hash, in every release), not from random(), whose next value the old
# seed decides. It rides in the spelt-out reset's one SELECT (a statement
# fewer), and divides as float8 (numeric division costs the server more).
RESEED = ('setseed(hashtext(clock_timestamp()::text || pg_backend_pid())'
          ' / 2147483648.0::float8)')
_UNLOCK = 'SELECT pg_advisory_unlock_all()'


def quote_literal(value):
    """Quote ``value`` as an SQL string literal."""
    return "'%s'" % value.replace("'", "''")


def build_reset_sql(policy, time_zone=None, server_time_zone=None, restore=()):
    """The SQL run when a connection is returned, or None for rollback only.

    ``time_zone`` is the zone Django sets on each connection;
    ``server_time_zone`` the session default a fresh connection reported;
    ``restore`` (name, value) settings to put back after the reset.
    """
    if policy == RESET_ROLLBACK:
        return None
    if not restore and (not time_zone or time_zone == server_time_zone):
        return DISCARD_ALL
    # After RESET ALL, which would otherwise undo them.
    sql = FULL_RESET_SQL
    if time_zone:
        sql += '; SET TIME ZONE %s' % quote_literal(time_zone)
    if restore:
        # set_config() reads a value as the configuration file would, which
        # SET does not for list settings: search_path's 'a, b' stays a list.
        sql += '; SELECT ' + ', '.join('set_config(%s, %s, false)' % (
            quote_literal(name), quote_literal(value)) for name, value in restore)
    return sql


_extended = {}


def extend_reset(reset_sql, reseed=False, client_encoding=None):
    """``reset_sql`` (a full reset) with a new random seed and/or ``SET client_encoding``.

    Both ride in the same round trip, after RESET ALL: the reseed when the
    session may have called setseed() (see RESEED); the encoding for
    psycopg2, which keeps encoding and decoding with the one it set last
    while RESET ALL puts the session's default back (the database's,
    unless the connection asked for another), and which skips a
    set_client_encoding() to the value it believes in (Django 1.3-4.1 call
    it at every connect).
    """
    if not reseed and client_encoding is None:
        return reset_sql
    key = (reset_sql, reseed, client_encoding)
    sql = _extended.get(key)
    if sql is None:
        sql = FULL_RESET_SQL if reset_sql == DISCARD_ALL else reset_sql
        if reseed:
            sql = sql.replace(_UNLOCK, '%s, %s' % (_UNLOCK, RESEED), 1)
        if client_encoding is not None:
            sql += '; SET client_encoding TO %s' % quote_literal(client_encoding)
        if len(_extended) < 64:
            _extended[key] = sql
    return sql


def session_time_zone(connection):
    """The TimeZone the server reported for this session (no round trip)."""
    try:
        return connection.info.parameter_status('TimeZone')
    except Exception:
        return None


def reports_read_only(connection, target='read-write'):
    """True when the server last reported that it cannot take the writes ``target`` wants.

    PostgreSQL 14+ reports ``in_hot_standby`` and
    ``default_transaction_read_only`` to the client whenever they change,
    with the answer to a query: reading them costs no round trip, and says
    what the server was when last heard from. As libpq's own
    target_session_attrs check: 'primary' means not in hot standby,
    'read-write' also not read-only by default. An older server reports
    neither, and passes.
    """
    try:
        pgconn = getattr(connection, 'pgconn', None)
        if pgconn is not None:  # psycopg 3: libpq's PQparameterStatus, as bytes
            if pgconn.parameter_status(b'in_hot_standby') == b'on':
                return True
            return (target == 'read-write'
                    and pgconn.parameter_status(b'default_transaction_read_only') == b'on')
        if connection.get_parameter_status('in_hot_standby') == 'on':  # psycopg2
            return True
        return (target == 'read-write'
                and connection.get_parameter_status('default_transaction_read_only') == 'on')
    except Exception:
        return False  # closed: the pool's other checks see to that


def is_closed(connection):
    """True when the driver already knows the connection is unusable."""
    pgconn = getattr(connection, 'pgconn', None)
    if pgconn is not None:
        return pgconn.status != CONNECTION_OK  # what psycopg 3's closed and broken read
    return bool(connection.closed) or bool(getattr(connection, 'broken', False))


def may_be_gone(connection):
    """True when an idle connection should be pinged before it is lent (no round trip).

    It is closed or broken as the driver knows, or the server sent
    something while it sat idle: an idle session receives nothing unless
    the server is closing it (pg_terminate_backend, shutdown) or the socket
    died, so input waiting is a cheap hint.
    """
    pgconn = getattr(connection, 'pgconn', None)
    if pgconn is not None:
        # libpq's own non-blocking read, which (unlike poll()) psycopg 3
        # makes without releasing the GIL: with many threads busy, every
        # release of the GIL on the checkout path is a thread switch. A
        # server ending the session sends an error, then closes the socket:
        # the error reaches the notice handler watch_connection() installed;
        # a read that meets the end of the stream (a socket closed without
        # a word) marks the connection bad. One read sees either.
        try:
            pgconn.consume_input()
        except Exception:
            return True
        return (pgconn.status != CONNECTION_OK or pgconn.get_result() is not None
                or bool(getattr(connection, '_dbpool_farewell', None)))
    if connection.closed:
        return True
    try:
        fd = connection.fileno()
    except Exception:
        return True
    if hasattr(select, 'poll'):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)


def watch_connection(connection):
    """Set up what may_be_gone() needs, once, when the pool opens ``connection``."""
    add_notice_handler = getattr(connection, 'add_notice_handler', None)
    if add_notice_handler is None or getattr(connection, 'pgconn', None) is None:
        return  # psycopg2: poll() sees whatever the server sent
    farewell = []

    def on_notice(diagnostic, farewell=farewell):
        # libpq hands an error that arrives while no query runs (the server
        # ending the session) to the notice handlers.
        if diagnostic.severity_nonlocalized in ('FATAL', 'PANIC'):
            farewell.append(True)

    add_notice_handler(on_notice)
    connection._dbpool_farewell = farewell


def run_unprepared(connection, sql):
    """Execute ``sql`` in one round trip, never as a server-side prepared statement."""
    pgconn = getattr(connection, 'pgconn', None)
    if pgconn is not None and not _green_threads():
        _psycopg3_exec(connection, pgconn, sql)
        return
    cursor = connection.cursor()
    try:
        if pgconn is None:
            cursor.execute(sql)
        else:
            # As in _psycopg3_exec: never prepared, whatever prepare_threshold says.
            cursor.execute(sql, prepare=False)
    finally:
        cursor.close()


def _green_threads():
    """True under gevent or eventlet, whose loop a blocking libpq call would freeze.

    psycopg 3's cursors wait through the (patched) select module there, so
    other greenlets, the watchdog among them, keep running.
    """
    monkey = sys.modules.get('gevent.monkey')
    if monkey is not None and monkey.is_module_patched('socket'):
        return True
    patcher = sys.modules.get('eventlet.patcher')
    return patcher is not None and patcher.is_monkey_patched('socket')


def _psycopg3_exec(connection, pgconn, sql):
    # libpq's PQexec, below psycopg 3's cursors: a third of their cost on
    # the return path, and one release of the GIL instead of several. It
    # sends the simple protocol, so nothing is ever prepared (psycopg 3
    # with prepare_threshold would PREPARE a query it has seen often).
    result = pgconn.exec_(sql.encode(connection.info.encoding))
    if result.status not in _RESULT_OK:
        message = (result.error_message or b'').decode('utf-8', 'replace').strip()
        raise DriverError(message or 'the connection is broken')


class DriverError(Exception):
    """A statement the pool ran on the connection failed."""


def forget_prepared_statements(connection):
    """Tell psycopg 3 that the reset dropped its server-side prepared statements.

    psycopg 3 (with OPTIONS['prepare_threshold'] set; Django's default is
    off) remembers which statements it prepared. It notices DISCARD ALL only
    the first time it sees that query text, so after a second reset it would
    run a statement the server no longer has. Its cache has no public reset,
    hence the guarded private calls; psycopg2 has no such cache.
    """
    prepared = getattr(connection, '_prepared', None)
    try:
        if prepared is not None and prepared._names:
            prepared.clear()
            # clear() queues a DEALLOCATE ALL for the next query: the reset
            # already did that.
            prepared._to_flush.clear()
    except AttributeError:
        pass


def end_transaction(connection):
    """Roll back whatever transaction the session is in."""
    if connection.info.transaction_status == TRANSACTION_IDLE:
        return
    connection.rollback()
    if connection.info.transaction_status != TRANSACTION_IDLE:
        # psycopg2 in autocommit ignores rollback() for a BEGIN it did not
        # send itself (the borrower's own SQL); the server still needs one.
        run_unprepared(connection, 'ROLLBACK')


@contextlib.contextmanager
def within(connection, timeout):
    """Round trips inside this block on ``connection`` are cut by the watchdog after ``timeout`` s."""
    guard = None
    try:
        # Inside the try: a connection already dropped has no socket to
        # watch, and arm() raises for the caller to handle.
        guard = watchdog.arm(connection, timeout)
        yield
    finally:
        watchdog.disarm(guard)


def ping(connection, query, timeout=None):
    """Run ``query`` in one round trip; True if the server answered within ``timeout`` s."""
    try:
        with within(connection, timeout):
            run_unprepared(connection, query)
            end_transaction(connection)
        return True
    except Exception as exc:
        logger.info('dbpool: health check failed: %s', exc)
        return False


def run_check(check, connection, timeout=None, name='pool'):
    """OPTIONS['HEALTH_CHECK']: True if ``check(connection)`` returned truthy within ``timeout`` s.

    Whatever it raises is logged (naming the key) and means unhealthy: the
    borrower gets another connection, never the error. A transaction it
    left open is rolled back, so the session is lent as it was.
    """
    try:
        with within(connection, timeout):
            healthy = check(connection)
            end_transaction(connection)
    except Exception as exc:
        logger.warning('dbpool: %s: HEALTH_CHECK %r raised, closing the connection: %s: %s',
                       name, check, type(exc).__name__, exc)
        return False
    if not healthy:
        logger.info('dbpool: %s: HEALTH_CHECK %r returned %r, closing the connection',
                    name, check, healthy)
    return bool(healthy)


def reset(connection, reset_sql, timeout=None):
    """Return the session to a clean state; True on success, False if broken.

    Rolls back what the borrower left open, puts the connection back into
    autocommit (Django sets its own mode at the next checkout) and, with a
    reset query, clears session state in one round trip; all within
    ``timeout`` seconds.
    """
    if not reset_sql and is_idle_in_autocommit(connection):
        # Nothing to send (RESET_ON_RETURN='rollback' after a request in
        # autocommit): no round trip, so no deadline to arm either.
        return True
    try:
        with within(connection, timeout):
            end_transaction(connection)
            if not connection.autocommit:
                connection.autocommit = True
            if reset_sql:
                run_unprepared(connection, reset_sql)
                forget_prepared_statements(connection)
            return connection.info.transaction_status == TRANSACTION_IDLE
    except Exception as exc:
        logger.info('dbpool: reset on return failed, closing the connection: %s', exc)
        return False


def query_rows(connection, sql, timeout=None):
    """The rows of ``sql``, through a plain cursor, within ``timeout`` s (else it raises)."""
    with within(connection, timeout):
        cursor = connection.cursor()
        try:
            cursor.execute(sql)
            return cursor.fetchall()
        finally:
            cursor.close()


def is_idle_in_autocommit(connection):
    """True when there is no transaction to end: no round trip needed."""
    pgconn = getattr(connection, 'pgconn', None)
    if pgconn is not None:
        # Below psycopg 3's properties, which build an object per read.
        return connection.autocommit and pgconn.transaction_status == TRANSACTION_IDLE
    return connection.autocommit and connection.get_transaction_status() == TRANSACTION_IDLE


def close_quietly(connection):
    """Close a connection, ignoring errors from one that is already dead."""
    try:
        connection.close()
    except Exception:
        pass
