"""Django 5.1 to 6.1: Django's own pool exists; ours takes its place."""
from __future__ import absolute_import, division, print_function

from dbpool.compat import django42
from dbpool.compat.django42 import (  # noqa: F401 - re-exported unchanged
    NO_DB_ALIAS, CreationHooks, StockDatabaseWrapper)
from dbpool.db.targets import close_pools_for_alias

__all__ = django42.__all__


class ConnectionHooks(django42.ConnectionHooks):
    """The 4.2 hooks, with Django's native pool kept switched off."""

    @property
    def pool(self):
        # Django consults this in init_connection_state, _close and the
        # health check; None makes it configure each session as unpooled.
        # OPTIONS['pool'] itself is refused in get_connection_params.
        return None

    def close_pool(self):
        # Django calls this when TIME_ZONE or USE_TZ change and before it
        # clones or drops a test database: close what this alias pooled.
        close_pools_for_alias(self.alias)
