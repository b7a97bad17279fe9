"""Django 1.8 to 2.2: base classes under db/backends/base/; 1.9 renames the backend.

Both moves are found by the imports (dbpool.compat.stock, django17); what
changed for us is the time zone: 1.9 added ``timezone_name``.
"""
from __future__ import absolute_import, division, print_function

from dbpool.compat import django17
from dbpool.compat.creation import CreationHooks  # noqa: F401
from dbpool.compat.django17 import NO_DB_ALIAS  # noqa: F401
from dbpool.compat.stock import StockDatabaseWrapper  # noqa: F401

__all__ = django17.__all__


class ConnectionHooks(django17.ConnectionHooks):
    """1.7's hooks with 1.9's timezone_name."""

    def _dbpool_time_zone(self):
        # 1.9 added timezone_name; 1.8 reads the alias's TIME_ZONE, which
        # its ConnectionHandler fills in from USE_TZ and TIME_ZONE.
        try:
            return self.timezone_name
        except AttributeError:
            return self.settings_dict.get('TIME_ZONE')
