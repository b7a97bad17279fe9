"""Databases whose encoding is not UTF8, made on the server under test for one test."""
from __future__ import absolute_import, division, print_function

import contextlib
import os

from tests.support import Admin, database

# 'cafe' with an acute e, as text on both Pythons: 4 characters, 5 bytes in UTF-8.
CAFE = u'caf\xe9'

# The Python codec each driver reports for a server encoding.
PYTHON_CODECS = {'UTF8': 'utf-8', 'LATIN1': 'iso8859-1', 'SQL_ASCII': 'ascii'}


@contextlib.contextmanager
def non_utf8_database(encoding):
    """Settings of a new database in ``encoding`` (LATIN1, SQL_ASCII), dropped afterwards."""
    name = 'dbpool_%s_%d' % (encoding.lower(), os.getpid())
    admin = Admin()
    try:
        admin.query('DROP DATABASE IF EXISTS %s' % name)
        admin.query("CREATE DATABASE %s ENCODING '%s' LC_COLLATE 'C' LC_CTYPE 'C' "
                    "TEMPLATE template0" % (name, encoding))
        yield dict(database(), NAME=name)
    finally:
        admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                    'WHERE datname = %s AND pid <> pg_backend_pid()', [name])
        admin.query('DROP DATABASE IF EXISTS %s' % name)
        admin.close()


def text(value):
    """A value the server sent as text (psycopg 3 gives bytes on SQL_ASCII) as text."""
    if isinstance(value, bytes) and not isinstance(value, type(u'')):
        return value.decode('ascii')
    return value


def believed_encoding(connection):
    """The server encoding the driver encodes and decodes with, in the server's spelling."""
    if hasattr(connection, 'pgconn'):
        # psycopg 3 reports a Python codec.
        codecs = dict((codec, name) for name, codec in PYTHON_CODECS.items())
        return codecs.get(connection.info.encoding, connection.info.encoding)
    # psycopg2 drops the underscore: SQLASCII.
    return {'SQLASCII': 'SQL_ASCII'}.get(connection.encoding, connection.encoding)
