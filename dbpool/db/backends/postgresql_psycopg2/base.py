"""ENGINE ``dbpool.db.backends.postgresql_psycopg2``: the historic name, kept forever.

The same classes as ``dbpool.db.backends.postgresql``.
"""
from __future__ import absolute_import, division, print_function

from dbpool.db.backends.postgresql.base import DatabaseWrapper  # noqa: F401
