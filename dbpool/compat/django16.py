"""Django 1.6: the first release with connection hooks.

``connect()`` calls ``get_connection_params``, ``get_new_connection`` and
``init_connection_state``; ``close()`` calls ``_close``. Every later era
keeps this template, so the later modules subclass these hooks and change
only what their release changed.
"""
from __future__ import absolute_import, division, print_function

from django.conf import settings

from dbpool import health
from dbpool.compat.creation import CreationHooks  # noqa: F401
from dbpool.compat.stock import StockDatabaseWrapper  # noqa: F401
from dbpool.db import credentials, scope, signals
from dbpool.db.targets import strip_pool_options
from dbpool.forking import current_pid

__all__ = ['StockDatabaseWrapper', 'ConnectionHooks', 'CreationHooks', 'NO_DB_ALIAS']

# 1.6 has no maintenance alias; this one never matches a real alias.
NO_DB_ALIAS = '__no_db__'


class ConnectionHooks(object):
    """Check out in get_new_connection, check in from _close."""

    no_db_alias = NO_DB_ALIAS

    def get_connection_params(self):
        self._dbpool_refuse_native_pool()
        return strip_pool_options(super(ConnectionHooks, self).get_connection_params())

    def get_new_connection(self, conn_params):
        if self.alias == self.no_db_alias:
            # Maintenance connections (CREATE/DROP DATABASE) bypass the pool:
            # 1.7-3.0 never close them (trap: one checkout leaked per use).
            # OPTIONS['CREDENTIALS'] gives their password too.
            return super(ConnectionHooks, self).get_new_connection(
                credentials.unpooled_params(self.settings_dict, self.alias, conn_params))
        connection = self._dbpool_checkout(conn_params)
        self._dbpool_sync_isolation_level(connection)
        return connection

    def ensure_connection(self):
        # A connection inherited across fork() belongs to the parent: drop it
        # (unclosed) and let Django connect afresh from this process's pool.
        entry = self._dbpool_entry
        if entry is not None and entry.pid != current_pid():
            self._dbpool_drop_inherited()
        if self.connection is not None:
            return  # as Django's own, which does nothing then
        if self.alias == self.no_db_alias:
            return super(ConnectionHooks, self).ensure_connection()
        if self._dbpool_unpark() or self._dbpool_fast_connect():
            return
        try:
            super(ConnectionHooks, self).ensure_connection()
        finally:
            self._dbpool_give_back_pending()
        if self._dbpool_entry is not None:
            signals.after_checkout(self)

    def _close(self):
        if self._dbpool_entry is None:
            return super(ConnectionHooks, self)._close()
        self._dbpool_checkin()

    def close(self):
        # The end of a request (or a close of one's own): from here the next
        # statement's checkout looks at its connection as usual.
        self._dbpool_parked = None
        super(ConnectionHooks, self).close()

    def close_if_unusable_or_obsolete(self):
        # Called at each end and start of a request, also when it holds no
        # connection (then it does not call close()).
        self._dbpool_parked = None
        super(ConnectionHooks, self).close_if_unusable_or_obsolete()

    def _set_autocommit(self, autocommit):
        connection = self.connection
        if (self._dbpool_entry is not None and connection.autocommit == autocommit
                and connection.info.transaction_status == health.TRANSACTION_IDLE):
            # Django's connect() asks for the mode every pooled connection
            # already has; psycopg2 would release the GIL (a thread switch
            # when threads are busy) to change nothing.
            return
        super(ConnectionHooks, self)._set_autocommit(autocommit)

    def set_autocommit(self, *args, **kwargs):
        # The outermost atomic() ends here (also after its on_commit
        # callbacks): a transaction-scoped borrow may end with it.
        super(ConnectionHooks, self).set_autocommit(*args, **kwargs)
        scope.statement_done(self)

    def create_cursor(self, *args, **kwargs):
        made = self._dbpool_cursors_made()
        cursor = super(ConnectionHooks, self).create_cursor(*args, **kwargs)
        self._dbpool_cursor_made(cursor, made)
        return cursor

    def is_usable(self):
        if self._dbpool_holds_given_back():
            # The pool owns it again and may have lent it to another thread.
            return False
        return super(ConnectionHooks, self).is_usable()

    # -- Questions the glue asks the era ----------------------------------------

    def _dbpool_connection_params(self):
        """The driver arguments, without our keys (what get_new_connection receives)."""
        return self.get_connection_params()

    def _dbpool_connect(self):
        """Check a connection out now, with no statement to run (Django's ensure_connection)."""
        self.ensure_connection()

    def _dbpool_open_physical(self, conn_params):
        """Open a real connection the way stock Django does."""
        return super(ConnectionHooks, self).get_new_connection(conn_params)

    def _dbpool_driver(self):
        """The driver module: the wrapper's own (psycopg2, or psycopg from 4.2)."""
        return self.Database

    def _dbpool_sync_isolation_level(self, connection):
        """Record on the wrapper what Django's get_new_connection would have."""
        # 1.6 sets self.isolation_level in __init__ and applies it in
        # init_connection_state at every connect: nothing to do here.

    def _dbpool_session_identity(self):
        """Session settings Django applies outside the connection parameters."""
        options = self.settings_dict['OPTIONS']
        return (options.get('isolation_level'), options.get('assume_role'),
                self._dbpool_time_zone())

    def _dbpool_time_zone(self):
        """The TimeZone Django's init_connection_state puts on every connection."""
        return 'UTC' if settings.USE_TZ else self.settings_dict.get('TIME_ZONE')


# From 1.6 Django's connect() sends connection_created at every checkout;
# the pool sends it once per physical connection (see dbpool.db.signals).
signals.send_connection_created_once()
