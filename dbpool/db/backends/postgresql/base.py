"""ENGINE ``dbpool.db.backends.postgresql``: Django's PostgreSQL backend, pooled.

A thin subclass: everything version-specific comes from ``dbpool.compat``,
everything pool-specific from ``dbpool.db.pooling``.
"""
from __future__ import absolute_import, division, print_function

from dbpool import compat
from dbpool.db import checks
from dbpool.db.pooling import PoolingMixin


class DatabaseWrapper(compat.ConnectionHooks, PoolingMixin, compat.StockDatabaseWrapper):
    """Django's PostgreSQL DatabaseWrapper whose connections come from a pool."""


compat.prepare_south()
# Also without the 'dbpool' app: the checks run when anything loaded this
# backend before `manage.py check` collects them.
checks.register_checks()
