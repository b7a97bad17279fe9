"""Django 4.2 and 5.0: hooks-era wrapper with psycopg 3 or psycopg2."""
from __future__ import absolute_import, division, print_function

from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql.base import DatabaseWrapper as StockDatabaseWrapper
from django.db.backends.postgresql.creation import DatabaseCreation as StockDatabaseCreation
from django.db.backends.postgresql.psycopg_any import IsolationLevel
from django.utils.asyncio import async_unsafe

from dbpool.db.pooling import close_pools_for_database, strip_pool_options

__all__ = ['StockDatabaseWrapper', 'StockDatabaseCreation', 'ConnectionHooks',
           'CreationHooks', 'NO_DB_ALIAS']


class ConnectionHooks(object):
    """Check out in get_new_connection, check in from _close."""

    def _dbpool_session_identity(self):
        """Session settings Django applies outside the connection parameters."""
        options = self.settings_dict['OPTIONS']
        return (options.get('isolation_level'), options.get('assume_role'),
                self._dbpool_time_zone())

    def _dbpool_time_zone(self):
        """The TimeZone Django's init_connection_state puts on every connection."""
        return self.timezone_name

    def get_connection_params(self):
        self._dbpool_refuse_native_pool()
        return strip_pool_options(super(ConnectionHooks, self).get_connection_params())

    @async_unsafe
    def get_new_connection(self, conn_params):
        if self.alias == NO_DB_ALIAS:
            # Maintenance connections (CREATE/DROP DATABASE) bypass the pool.
            return super(ConnectionHooks, self).get_new_connection(conn_params)
        connection = self._dbpool_checkout(conn_params)
        self._dbpool_sync_isolation_level()
        return connection

    def _dbpool_sync_isolation_level(self):
        # What Django's get_new_connection records on the wrapper; the
        # connection itself got the level when it was opened (the level is
        # part of the pool key, so every connection of the pool has it).
        level = self.settings_dict['OPTIONS'].get('isolation_level')
        if level is None:
            self.isolation_level = IsolationLevel.READ_COMMITTED
        else:
            self.isolation_level = IsolationLevel(level)

    @async_unsafe
    def ensure_connection(self):
        # A connection inherited across fork() belongs to the parent: drop it
        # (unclosed) and let Django connect afresh from this process's pool.
        if self._dbpool_entry is not None:
            self._dbpool_drop_inherited()
        super(ConnectionHooks, self).ensure_connection()

    def _dbpool_open_physical(self, conn_params):
        """Open a real connection the way stock Django does."""
        return super(ConnectionHooks, self).get_new_connection(conn_params)

    def _close(self):
        if self._dbpool_entry is None:
            return super(ConnectionHooks, self)._close()
        self._dbpool_checkin()


class CreationHooks(object):
    """Close pooled connections that would block DROP or CREATE ... TEMPLATE."""

    def _destroy_test_db(self, test_database_name, verbosity):
        close_pools_for_database(test_database_name)
        return super(CreationHooks, self)._destroy_test_db(test_database_name, verbosity)

    def _clone_test_db(self, *args, **kwargs):
        close_pools_for_database(self.connection.settings_dict['NAME'])
        return super(CreationHooks, self)._clone_test_db(*args, **kwargs)
