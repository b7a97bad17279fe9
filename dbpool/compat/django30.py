"""Django 3.0 to 4.1: hooks guarded by @async_unsafe; postgresql_psycopg2 is gone."""
from __future__ import absolute_import, division, print_function

from django.utils.asyncio import async_unsafe

from dbpool.compat import django18
from dbpool.compat.creation import CreationHooks  # noqa: F401
from dbpool.compat.django18 import NO_DB_ALIAS, StockDatabaseWrapper  # noqa: F401

__all__ = django18.__all__


class ConnectionHooks(django18.ConnectionHooks):
    """1.8's hooks, refusing to run inside an event loop as Django's do."""

    @async_unsafe
    def get_new_connection(self, conn_params):
        return super(ConnectionHooks, self).get_new_connection(conn_params)

    @async_unsafe
    def ensure_connection(self):
        super(ConnectionHooks, self).ensure_connection()

    def close_if_health_check_failed(self):
        # Only Django 4.1+ calls this (CONN_HEALTH_CHECKS). It closes the
        # connection when is_usable() says no; a plain close gives it back
        # to the pool, so mark it for closing instead.
        self._dbpool_rejected = self._dbpool_entry is not None
        try:
            super(ConnectionHooks, self).close_if_health_check_failed()
        finally:
            self._dbpool_rejected = False
