"""Django 1.3: ``_cursor()`` opens the connection; the wrapper is a threading.local.

There is no connect hook, so checkout happens in ``_cursor`` just before
Django's own, which then finds ``self.connection`` set and only makes a
cursor. Django's one-time session set-up for a new connection is therefore
ours to repeat at every checkout (encoding, isolation level, time zone,
server version probe).
"""
from __future__ import absolute_import, division, print_function

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql_psycopg2.base import Database
from django.db.backends.postgresql_psycopg2.base import DatabaseWrapper as StockDatabaseWrapper

from dbpool.compat.creation import CreationHooks  # noqa: F401
from dbpool.db import scope, signals
from dbpool.db.targets import strip_pool_options

__all__ = ['StockDatabaseWrapper', 'ConnectionHooks', 'CreationHooks', 'NO_DB_ALIAS']

# No maintenance alias before 1.7; this one never matches a real alias.
NO_DB_ALIAS = '__no_db__'

AUTOCOMMIT = 0  # psycopg2's ISOLATION_LEVEL_AUTOCOMMIT


class ConnectionHooks(object):
    """Check out in _cursor, check in from close."""

    def _cursor(self):
        if self._dbpool_entry is not None:
            self._dbpool_drop_inherited()
        if self.connection is None and not self._dbpool_unpark():
            self.connection = self._dbpool_checkout(self._dbpool_connection_params())
            self._dbpool_set_up_session()
            # Once per physical connection, and again after a checkin took
            # type adapters away (see dbpool.db.signals).
            entry = self._dbpool_entry
            if entry.is_first_checkout() or entry.set_up_again:
                signals.send_connection_created(self)
            signals.after_checkout(self)
        made = self._dbpool_cursors_made()
        cursor = super(ConnectionHooks, self)._cursor()
        self._dbpool_cursor_made(cursor, made)
        return cursor

    def _leave_transaction_management(self, managed):
        # A managed block ends here: a transaction-scoped borrow may end with it.
        super(ConnectionHooks, self)._leave_transaction_management(managed)
        scope.statement_done(self)

    def close(self):
        # Called at the end of each request: from here the next statement's
        # checkout looks at its connection as usual.
        self._dbpool_parked = None
        if self._dbpool_entry is None:
            return super(ConnectionHooks, self).close()
        try:
            self._dbpool_checkin()
        finally:
            self.connection = None

    # -- Questions the glue asks the era ----------------------------------------

    def _dbpool_connection_params(self):
        """The driver arguments Django 1.3-1.5 build inside _cursor."""
        settings_dict = self.settings_dict
        if settings_dict['NAME'] == '':
            raise ImproperlyConfigured('You need to specify NAME in your Django settings file.')
        self._dbpool_refuse_native_pool()
        conn_params = {'database': settings_dict['NAME']}
        conn_params.update(settings_dict['OPTIONS'])
        conn_params.pop('autocommit', None)
        strip_pool_options(conn_params)
        for key, param in (('USER', 'user'), ('PASSWORD', 'password'),
                           ('HOST', 'host'), ('PORT', 'port')):
            if settings_dict[key]:
                conn_params[param] = settings_dict[key]
        return conn_params

    def _dbpool_connect(self):
        """Check a connection out now, with no statement to run (1.3-1.5: through _cursor)."""
        self._cursor().close()

    def _dbpool_open_physical(self, conn_params):
        """Open a real connection the way stock Django does."""
        return Database.connect(**conn_params)

    def _dbpool_driver(self):
        """The driver module (1.3-1.5: psycopg2, which the wrapper does not name)."""
        return Database

    def _dbpool_set_up_session(self):
        """What 1.3's _cursor does for a new connection, for every checkout."""
        connection = self.connection
        connection.set_client_encoding('UTF8')
        # Our own queries run in autocommit, so none leaves a transaction
        # open: 1.3's test-database creation switches the connection to
        # autocommit, which psycopg2 2.4.2+ refuses inside a transaction.
        connection.set_isolation_level(AUTOCOMMIT)
        self._dbpool_ensure_time_zone()
        self._dbpool_probe_server_version()
        # Also undoes creation.set_autocommit(), which switched the raw
        # connection of a test-database run to autocommit behind Django.
        connection.set_isolation_level(self.isolation_level)

    def _dbpool_ensure_time_zone(self):
        # 1.3 sets it inside the first transaction, where a rollback undoes
        # it; ours runs in autocommit, and only when it differs (the full
        # reset on return already set it).
        time_zone = self._dbpool_time_zone()
        connection = self.connection
        if time_zone and connection.get_parameter_status('TimeZone') != time_zone:
            cursor = connection.cursor()
            try:
                cursor.execute('SET TIME ZONE %s', [time_zone])
            finally:
                cursor.close()

    def _dbpool_probe_server_version(self):
        # The features are per wrapper (per thread here); the version is
        # cached on the class, as 1.3 does.
        if not hasattr(self, '_version'):
            # Imported here: 1.4 (which subclasses these hooks) lacks it.
            from django.db.backends.postgresql.version import get_version
            cursor = self.connection.cursor()
            try:
                self.__class__._version = get_version(cursor)
            finally:
                cursor.close()
        if self._version[0:2] < (8, 0):
            self.features.uses_savepoints = False
        if self.features.uses_autocommit and self._version[0:2] >= (8, 2):
            self.features.can_return_id_from_insert = True

    def _dbpool_session_identity(self):
        """Session settings Django applies outside the connection parameters."""
        return (self.settings_dict['OPTIONS'].get('autocommit'), self._dbpool_time_zone())

    def _dbpool_time_zone(self):
        """The TimeZone Django sets on each new connection."""
        return self.settings_dict.get('TIME_ZONE') or settings.TIME_ZONE
