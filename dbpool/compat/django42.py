"""Django 4.2 and 5.0: psycopg 3 or psycopg2, and IsolationLevel."""
from __future__ import absolute_import, division, print_function

from django.db.backends.postgresql.psycopg_any import IsolationLevel

from dbpool.compat import django41
from dbpool.compat.django41 import (  # noqa: F401 - re-exported unchanged
    NO_DB_ALIAS, CreationHooks, StockDatabaseWrapper)

__all__ = django41.__all__


class ConnectionHooks(django41.ConnectionHooks):
    """4.1's hooks; the isolation level is recorded as 4.2 does."""

    def _dbpool_sync_isolation_level(self, connection):
        level = self.settings_dict['OPTIONS'].get('isolation_level')
        if level is None:
            self.isolation_level = IsolationLevel.READ_COMMITTED
        else:
            self.isolation_level = IsolationLevel(level)
