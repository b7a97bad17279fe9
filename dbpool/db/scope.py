"""Transaction-scoped checkout: a connection goes back to the pool between statements.

With ``OPTIONS['CHECKOUT_SCOPE'] = 'transaction'`` a wrapper gives its
connection back as soon as a statement is done and nothing ties the
session to this borrower: the driver connection is in autocommit with no
transaction open (so not inside ``atomic()`` or a managed block), no
server-side cursor is open, and the session and the driver object are as
they were lent (``ConnectionPool.session_untouched``: the same knowledge
that lets RESET_ON_RETURN='auto' skip the reset). The next statement of the
same request borrows again, through the fast checkout, usually getting the
same connection back.

When the borrower did something whose effect outlives the statement (a
session SET, SET ROLE, an advisory lock, LISTEN, a temp table, a WITH HOLD
cursor, PREPARE, a function the classifier does not know, a change to the
driver object, a cursor made on the driver connection behind Django's
back) the connection is *pinned*: it stays with the borrower until Django
closes it at the end of the request, and is reset then as usual.

This module says what a statement's end does; the era modules say when
one ends (``ScopedCursor`` here, after ``set_autocommit(True)`` from 1.6,
after leaving transaction management on 1.3-1.5).
"""
from __future__ import absolute_import, division, print_function

from dbpool import health, stats
from dbpool.options import SCOPE_TRANSACTION as TRANSACTION

# A connection given back after a statement is taken back by the same
# borrower's next statement without a look at it (no ping, no check that
# the server is still there) when it sat idle at most this long and the
# request has not ended: request scope would have held it over the pause.
PARKED_AT_MOST_S = 1.0

# What a driver cursor keeps on the client once its statement is done: read
# from it after the connection went back. Anything else (a method such as
# callproc or copy_expert, the raw driver cursor) needs the connection, and
# is looked up on a cursor of the connection the wrapper holds now.
_KEPT_ON_CLIENT = frozenset(['description', 'rowcount', 'lastrowid', 'query', '_query',
                             'statusmessage', 'arraysize', 'itersize', 'rownumber',
                             'closed', 'name', 'db', 'tzinfo_factory'])


_scoped_classes = {}


def scoped_cursor(db, cursor):
    """``cursor`` (Django's CursorWrapper, or a subclass) as a ScopedCursor of ``db``.

    The result is an instance of a subclass of both, so that it still is
    what Django's cursor() returns for code that checks (Django's own
    tests do); ScopedCursor's methods come first.
    """
    cls = type(cursor)
    scoped = _scoped_classes.get(cls)
    if scoped is None:
        scoped = _scoped_classes[cls] = type(str('Scoped' + cls.__name__), (ScopedCursor, cls), {})
    instance = object.__new__(scoped)
    ScopedCursor.__init__(instance, db, cursor)
    return instance


class ScopedCursor(object):
    """Django's cursor, for a wrapper whose connection may go back between statements.

    After each statement it asks the wrapper whether the connection may go
    back (``statement_done``). Before it goes, every scoped cursor of the
    wrapper reads the rows of its last statement into memory (for a
    client-side cursor the driver already holds them all), so that no
    cursor reads from a connection another borrower has. A later statement
    on the same cursor runs on whatever connection the wrapper holds then,
    borrowing one if it holds none.
    """

    __slots__ = ('_db', '_cursor', '_connection', '_rows', '_closed', '__weakref__')

    def __init__(self, db, cursor):
        self._db = db
        self._cursor = cursor
        self._connection = db.connection
        # The rest of the last statement's rows (last row first), once read
        # ahead; None while they are the driver cursor's to give.
        self._rows = None
        self._closed = False
        db._dbpool_scoped_cursors.add(self)

    def _current(self):
        """Django's cursor on the connection the wrapper holds now (borrowing one if need be)."""
        db = self._db
        if self._closed:
            return self._cursor  # closed: it refuses statements as Django's does
        if db.connection is None:
            # Borrow again; the connection is usually the one this cursor
            # was made on, which then serves it again as it is.
            db._dbpool_connect()
        if self._connection is None or self._connection is not db.connection:
            fresh = db._dbpool_cursor()
            try:
                self._cursor.close()
            except Exception:
                pass  # a client-side cursor of a connection given back: nothing to tell
            self._cursor = fresh
            self._connection = db.connection
        return self._cursor

    def _read_ahead(self):
        """Take the last statement's rows off the driver cursor, before the connection goes."""
        if self._rows is not None or self._connection is not self._db.connection:
            return
        cursor = self._cursor
        rows = []
        if not cursor.closed and cursor.description is not None:
            rows = list(cursor.fetchall())
        rows.reverse()
        self._rows = rows

    def execute(self, sql, params=None):
        cursor = self._current()
        self._rows = None
        result = cursor.execute(sql, params)
        statement_done(self._db)
        return result

    def executemany(self, sql, param_list):
        cursor = self._current()
        self._rows = None
        result = cursor.executemany(sql, param_list)
        statement_done(self._db)
        return result

    def callproc(self, procname, *args):
        cursor = self._current()
        self._rows = None
        result = cursor.callproc(procname, *args)
        statement_done(self._db)
        return result

    def fetchone(self):
        rows = self._rows
        if rows is None:
            return self._cursor.fetchone()
        return rows.pop() if rows else None

    def fetchmany(self, size=None):
        rows = self._rows
        if rows is None:
            return self._cursor.fetchmany() if size is None else self._cursor.fetchmany(size)
        if size is None:
            size = self._cursor.arraysize
        taken = rows[len(rows) - min(max(size, 0), len(rows)):]
        del rows[len(rows) - len(taken):]
        taken.reverse()
        return taken

    def fetchall(self):
        rows = self._rows
        if rows is None:
            return self._cursor.fetchall()
        taken = rows[::-1]
        del rows[:]
        return taken

    def __iter__(self):
        if self._rows is None:
            return iter(self._cursor)
        return iter(self.fetchone, None)

    def close(self):
        self._closed = True
        try:
            self._cursor.close()
        finally:
            statement_done(self._db)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.close()

    def __getattr__(self, name):
        if name == 'cursor':
            # The driver cursor itself: its user may keep it past this statement.
            pin_for_raw_use(self._db)
        if self._rows is None or name in _KEPT_ON_CLIENT:
            return getattr(self._cursor, name)
        return getattr(self._current(), name)

    def __repr__(self):
        return '<dbpool ScopedCursor of %r>' % (self._cursor,)


def begin_borrow(db):
    """A checkout of ``db`` is set up: from now on its statements may end the borrow."""
    pool = db._dbpool_pool
    db._dbpool_scoped = pool.options.checkout_scope == TRANSACTION
    if db._dbpool_scoped:
        db._dbpool_pinned = False
        db._dbpool_cursor_mark = db._dbpool_cursors_made()


def count_cursors(db, made_before):
    """Django made cursors on ``db``'s connection since the driver counted ``made_before``."""
    mark = db._dbpool_cursor_mark
    if mark is not None and mark is not _RAW_USE:
        db._dbpool_cursor_mark = mark + db._dbpool_cursors_made() - made_before


def pin(connection):
    """Keep ``connection``'s (a Django wrapper's) connection until the end of the request.

    For code that holds on to the driver connection (``connection.connection``)
    between statements in ways the pool cannot see. Checks a connection
    out if the wrapper holds none. Without effect in request scope.
    """
    if connection.connection is None:
        connection._dbpool_connect()
    if connection._dbpool_scoped:
        pin_for_raw_use(connection)
        _pin(connection, connection._dbpool_pool)


def pin_for_raw_use(db):
    """Keep ``db``'s connection to the end of this borrow: its driver objects are in user hands."""
    db._dbpool_cursor_mark = _RAW_USE


_RAW_USE = object()  # a cursor mark no count equals


def statement_done(db):
    """A statement of ``db``'s borrower ended: give the connection back if nothing ties it here."""
    if not db._dbpool_scoped:
        return
    entry = db._dbpool_entry
    if entry is None:
        return
    connection = entry.connection
    if not health.is_idle_in_autocommit(connection):
        return  # a transaction is open: it is the borrower's until it ends
    pool = db._dbpool_pool
    if db._dbpool_cursors_made() != db._dbpool_cursor_mark:
        # A cursor made on the driver connection behind Django's back: its
        # user may run more on it, on this session, at any time.
        pin_for_raw_use(db)
        _pin(db, pool)
        return
    if not pool.session_untouched(entry):
        # A session change or an open WITH HOLD cursor: pinned, looked at
        # again after the next statement (the cursor may close by then).
        _pin(db, pool)
        # A catalog read the pool may have made just now is not the borrower's.
        db._dbpool_cursor_mark = db._dbpool_cursors_made()
        return
    for cursor in list(db._dbpool_scoped_cursors):
        cursor._read_ahead()
    db._dbpool_park()


def _pin(db, pool):
    if not db._dbpool_pinned:
        db._dbpool_pinned = True  # counted once per borrow
        pool.note(stats.PINNED)
