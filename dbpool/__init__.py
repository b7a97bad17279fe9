"""django-db-pool: a pooled PostgreSQL backend for Django.

Set ``DATABASES[alias]['ENGINE']`` to ``dbpool.db.backends.postgresql`` (or the
historic ``dbpool.db.backends.postgresql_psycopg2``). This package itself
imports no Django: the pool core lives here, the Django glue in ``dbpool.db``.
"""
from __future__ import absolute_import, division, print_function

from dbpool.errors import PoolClosed, PoolError, PoolTimeout
from dbpool.registry import pool_stats

__version__ = '1.0.0.dev0'

__all__ = ['PoolClosed', 'PoolError', 'PoolTimeout', 'pool_stats', '__version__']
