"""One short, unpooled connection to read what the server says about itself.

Used by ``manage.py dbpool_status`` and the server-capacity system check:
going around the pool keeps those from creating a pool (and its MIN_CONNS
connections) in a process that only wants to look.
"""
from __future__ import absolute_import, division, print_function

from dbpool import health

SETTINGS_SQL = ("SELECT current_setting('max_connections')::int, "
                "current_setting('superuser_reserved_connections')::int, "
                "current_database(), current_user, current_setting('server_version')")
SESSIONS_SQL = ("SELECT coalesce(application_name, ''), coalesce(state, ''), count(*) "
                'FROM pg_stat_activity WHERE datname = current_database() '
                'AND pid <> pg_backend_pid() GROUP BY 1, 2 ORDER BY 1, 2')


def open_direct(alias):
    """A new driver connection for ``alias``, outside its pool; the caller closes it."""
    # Imported here: Django 1.3-1.5 load the default backend (which imports
    # this module) while django.db itself is still being imported.
    from django.db import connections
    from dbpool.db.pooling import _Connector
    wrapper = connections[alias]
    params = wrapper._dbpool_connection_params()
    opener = _Connector(wrapper._dbpool_opener_class(), wrapper.settings_dict, alias, params)
    return opener()


def server_facts(alias):
    """max_connections and friends, and this database's sessions by application and state."""
    connection = open_direct(alias)
    try:
        cursor = connection.cursor()
        cursor.execute(SETTINGS_SQL)
        max_connections, reserved, dbname, user, version = cursor.fetchone()
        cursor.execute(SESSIONS_SQL)
        sessions = [{'application_name': app, 'state': state, 'count': count}
                    for app, state, count in cursor.fetchall()]
        cursor.close()
    finally:
        health.close_quietly(connection)
    return {
        'max_connections': max_connections,
        'superuser_reserved_connections': reserved,
        'database': dbname,
        'user': user,
        'server_version': version,
        'sessions': sessions,
    }
