"""ENGINE ``dbpool.db.backends.postgis``: GeoDjango's PostGIS backend, pooled.

The same pool glue as ``dbpool.db.backends.postgresql``, on top of
``django.contrib.gis.db.backends.postgis`` instead of Django's plain
PostgreSQL wrapper. What PostGIS needs beyond that comes from
``dbpool.compat.postgis``.
"""
from __future__ import absolute_import, division, print_function

from dbpool import compat
from dbpool.compat.postgis import PostGISHooks, StockPostGISWrapper
from dbpool.db import checks
from dbpool.db.pooling import PoolingMixin


class DatabaseWrapper(compat.ConnectionHooks, PostGISHooks, PoolingMixin, StockPostGISWrapper):
    """GeoDjango's PostGIS DatabaseWrapper whose connections come from a pool."""


compat.prepare_south()
# Also without the 'dbpool' app (see dbpool.db.checks).
checks.register_checks()
