"""Which database a pool serves: its connection parameters, as Django builds them, and closing by target.

The era modules use these while Django builds a connection's parameters or
drops a test database; dbpool.db.pooling uses them to name and find pools.
Nothing here imports the era modules, so both sides can import it.
"""
from __future__ import absolute_import, division, print_function

from dbpool import registry
from dbpool.options import OPTION_NAMES


def strip_pool_options(conn_params):
    """Drop our OPTIONS keys from Django's (already copied) connection parameters."""
    # Runs at every checkout that goes through Django's connect(): only the
    # names present are popped.
    for name in OPTION_NAMES.intersection(conn_params):
        del conn_params[name]
    return conn_params


def close_pools_for_database(dbname):
    """Close every pool connected to database ``dbname`` (before DROP or TEMPLATE)."""
    return registry.close_pools(lambda pool: pool.dbname == dbname)


def close_pools_for_alias(alias):
    """Close every pool of one DATABASES alias."""
    return registry.close_pools(lambda pool: pool.label == alias)


def describe_target(conn_params):
    """user@host:port/dbname, for messages: never the password."""
    host = conn_params.get('host') or 'local socket'
    port = conn_params.get('port')
    where = '%s:%s' % (host, port) if port else host
    return '%s@%s/%s' % (conn_params.get('user', ''), where, dbname(conn_params) or '')


def dbname(conn_params):
    """The database name in driver parameters."""
    # psycopg2 accepts 'database' as an alias; Django used it until 4.2.
    return conn_params.get('dbname') or conn_params.get('database')
