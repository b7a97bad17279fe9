"""The one place that reads django.VERSION: it picks the era module.

Each era module (named for the first Django release it serves) exports the
same names, so the backends never branch on the Django version:

- ``StockDatabaseWrapper``: Django's own PostgreSQL DatabaseWrapper;
- ``ConnectionHooks``: a mixin overriding the hooks that era's wrapper has,
  to check connections out and in, and answering the glue's questions about
  the era: ``_dbpool_open_physical(params)`` opens a connection as stock
  Django does, ``_dbpool_driver()`` is the driver module, ``_dbpool_session_identity()`` lists what Django applies to a
  session outside the connection parameters (isolation level, role, time
  zone), ``_dbpool_time_zone()`` is the zone Django sets on each connection,
  ``_dbpool_connect()`` checks a connection out with no statement to run;
- ``CreationHooks``: a mixin for the creation class (test databases);
- ``NO_DB_ALIAS``: the alias of Django's maintenance connections.

The eras follow shared/notes/django-backend-eras.md: the ``_cursor()`` era
(1.3, 1.4-1.5), the hooks era (1.6, 1.7, 1.8-2.2, 3.0-4.0, 4.1), psycopg 3
(4.2-5.0) and Django's own pool (5.1-6.1).
"""
from __future__ import absolute_import, division, print_function

import django

_RELEASE = django.VERSION[:2]

if _RELEASE >= (5, 1):
    from dbpool.compat import django51 as era
elif _RELEASE >= (4, 2):
    from dbpool.compat import django42 as era
elif _RELEASE >= (4, 1):
    from dbpool.compat import django41 as era
elif _RELEASE >= (3, 0):
    from dbpool.compat import django30 as era
elif _RELEASE >= (1, 8):
    from dbpool.compat import django18 as era
elif _RELEASE >= (1, 7):
    from dbpool.compat import django17 as era
elif _RELEASE >= (1, 6):
    from dbpool.compat import django16 as era
elif _RELEASE >= (1, 4):
    from dbpool.compat import django14 as era
elif _RELEASE >= (1, 3):
    from dbpool.compat import django13 as era
else:
    raise ImportError('django-db-pool supports Django 1.3 to 6.1, not %s.'
                      % django.get_version())

ERA = era.__name__.rsplit('.', 1)[-1]
SOUTH_ERA = _RELEASE < (1, 7)  # South refuses to run on 1.7+
StockDatabaseWrapper = era.StockDatabaseWrapper
ConnectionHooks = era.ConnectionHooks
CreationHooks = era.CreationHooks
NO_DB_ALIAS = era.NO_DB_ALIAS


def prepare_south():
    """On South's releases, give our aliases South's PostgreSQL adapter (see south_adapters)."""
    if SOUTH_ERA:
        from dbpool.compat.south_adapters import register_default_adapters
        register_default_adapters()
