"""Django's own PostgreSQL DatabaseWrapper, wherever this release keeps it (1.4+).

Not for 1.3, whose ``postgresql`` package is the psycopg1 backend.
"""
from __future__ import absolute_import, division, print_function

try:  # 1.9 renamed the package; from 3.0 it is the only name.
    from django.db.backends.postgresql.base import DatabaseWrapper as StockDatabaseWrapper
except ImportError:  # 1.4 to 1.8
    from django.db.backends.postgresql_psycopg2.base import (  # noqa: F401
        DatabaseWrapper as StockDatabaseWrapper)
