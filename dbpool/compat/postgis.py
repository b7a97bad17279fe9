"""What the pooled PostGIS backend needs beyond the pool glue (1.3 to 6.1).

Imported only by ``dbpool.db.backends.postgis``: importing GeoDjango loads
the GEOS library, which a project without PostGIS need not have.
"""
from __future__ import absolute_import, division, print_function

from django.contrib.gis.db.backends.postgis.base import (  # noqa: F401
    DatabaseWrapper as StockPostGISWrapper)

__all__ = ['StockPostGISWrapper', 'PostGISHooks']

# Django 4.2+ registers psycopg 3 geometry adapters on each new connection
# in the PostGIS wrapper's get_new_connection; before, the PostGIS wrapper
# opens connections exactly as the plain PostgreSQL one does.
_OPENS_ITS_OWN_CONNECTIONS = 'get_new_connection' in vars(StockPostGISWrapper)


class PostGISHooks(object):
    """Open the pool's physical connections without GeoDjango's version probe."""

    @classmethod
    def _dbpool_opener_class(cls):
        # The pool opens each physical connection through a private wrapper.
        # Django 1.3 to 1.7 query the server for the PostGIS version while a
        # PostGIS wrapper is built (PostGISOperations.__init__, unless
        # settings has POSTGIS_VERSION): built inside the pool, that query
        # would check out of the very pool that is opening its connection,
        # and fail on a database that has no PostGIS yet (a new test
        # database). The plain pooled wrapper opens the same connection.
        if _OPENS_ITS_OWN_CONNECTIONS:
            return cls
        from dbpool.db.backends.postgresql.base import DatabaseWrapper
        return DatabaseWrapper
