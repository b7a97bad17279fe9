"""Django 1.7: a maintenance alias, and the isolation level read at connect."""
from __future__ import absolute_import, division, print_function

try:
    from django.db.backends.creation import NO_DB_ALIAS
except ImportError:  # 1.8+ moved it; later eras build on this module
    from django.db.backends.base.base import NO_DB_ALIAS

from dbpool.compat import django16
from dbpool.compat.creation import CreationHooks  # noqa: F401
from dbpool.compat.django16 import StockDatabaseWrapper  # noqa: F401

__all__ = django16.__all__


class ConnectionHooks(django16.ConnectionHooks):
    """1.6's hooks; 1.7 test databases are made over a '__no_db__' wrapper."""

    no_db_alias = NO_DB_ALIAS

    def _dbpool_sync_isolation_level(self, connection):
        # What 1.7-4.1's get_new_connection records. The connection already
        # has the level from OPTIONS: it was set when it was opened, and the
        # level is part of the pool key.
        options = self.settings_dict['OPTIONS']
        self.isolation_level = options.get('isolation_level', connection.isolation_level)
