"""Django 4.1: CONN_HEALTH_CHECKS, a health check before a request's first query."""
from __future__ import absolute_import, division, print_function

from dbpool.compat import django30
from dbpool.compat.django30 import (  # noqa: F401 - re-exported unchanged
    NO_DB_ALIAS, CreationHooks, StockDatabaseWrapper)

__all__ = django30.__all__


class ConnectionHooks(django30.ConnectionHooks):
    """3.0's hooks; a connection Django's health check rejects is closed, not pooled."""

    def close_if_health_check_failed(self):
        # Django closes the connection when is_usable() says no; a plain
        # close gives it back to the pool, so mark it for closing instead.
        # Called before every cursor: most often there is no check to run
        # (Django's own returns at once then).
        if not self.health_check_enabled or self.health_check_done:
            return
        self._dbpool_rejected = self._dbpool_entry is not None
        try:
            super(ConnectionHooks, self).close_if_health_check_failed()
        finally:
            self._dbpool_rejected = False
