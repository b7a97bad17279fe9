"""Django 1.4 and 1.5: still ``_cursor()``, now with USE_TZ and thread checks."""
from __future__ import absolute_import, division, print_function

from django.conf import settings

from dbpool.compat import django13
from dbpool.compat.django13 import (  # noqa: F401 - re-exported unchanged
    NO_DB_ALIAS, CreationHooks, StockDatabaseWrapper)

__all__ = django13.__all__


class ConnectionHooks(django13.ConnectionHooks):
    """1.3's hooks with 1.4's time zone rule, version probe and thread check."""

    def close(self):
        if self._dbpool_entry is not None:
            # 1.4's own close() refuses a connection of another thread.
            self.validate_thread_sharing()
        return super(ConnectionHooks, self).close()

    def _dbpool_probe_server_version(self):
        self._get_pg_version()

    def _dbpool_time_zone(self):
        return 'UTC' if settings.USE_TZ else self.settings_dict.get('TIME_ZONE')
