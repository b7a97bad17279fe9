"""The one place that reads django.VERSION: it picks the era module.

Each era module (named for the first Django release it serves) exports the
same names, so the backends never branch on the Django version:

- ``StockDatabaseWrapper``, ``StockDatabaseCreation``: Django's own classes;
- ``ConnectionHooks``: a mixin overriding the hooks that era's
  ``DatabaseWrapper`` has, to check connections out and in;
- ``CreationHooks``: a mixin for the creation class (test databases);
- ``NO_DB_ALIAS``: the alias of Django's maintenance connections.

``ConnectionHooks`` also answers the glue's questions about the era:
``_dbpool_open_physical(params)`` opens a connection as stock Django does,
``_dbpool_session_identity()`` lists what Django applies to a session outside
the connection parameters (isolation level, role, time zone), and
``_dbpool_time_zone()`` is the time zone Django sets on each connection.
"""
from __future__ import absolute_import, division, print_function

import django

if django.VERSION >= (5, 1):
    from dbpool.compat import django51 as era
elif django.VERSION >= (4, 2):
    from dbpool.compat import django42 as era
else:
    raise ImportError(
        'django-db-pool has no support for Django %s in this release; '
        'it supports Django 4.2 to 6.1.' % django.get_version())

ERA = era.__name__.rsplit('.', 1)[-1]
StockDatabaseWrapper = era.StockDatabaseWrapper
StockDatabaseCreation = era.StockDatabaseCreation
ConnectionHooks = era.ConnectionHooks
CreationHooks = era.CreationHooks
NO_DB_ALIAS = era.NO_DB_ALIAS
