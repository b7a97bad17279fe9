"""South (Django 1.3-1.6) and our ENGINE names.

South picks a schema adapter per alias from a fixed table of ENGINE strings
(``south.db.engine_modules``) and ignores any ENGINE it does not know; then
``south.db`` fails with ``KeyError: 'default'``. The documented fix is the
setting ``SOUTH_DATABASE_ADAPTERS = {'default': 'south.db.postgresql_psycopg2'}``.

``register_default_adapters()`` adds that mapping for every alias that uses
our ENGINE and has none yet. It runs when Django loads our backend, so it
helps whenever that happens before ``south.db`` is imported: always on
Django 1.3-1.5, which load the default backend as ``django.db`` is imported
(and South imports ``django.db`` first). Django 1.6 loads backends lazily,
so there the setting must be written in settings.py.
"""
from __future__ import absolute_import, division, print_function

OUR_ENGINES = ('dbpool.db.backends.postgresql_psycopg2', 'dbpool.db.backends.postgresql',
               'dbpool.db.backends.postgis')
SOUTH_POSTGRESQL_ADAPTER = 'south.db.postgresql_psycopg2'


def register_default_adapters():
    """Map each alias on our ENGINE to South's PostgreSQL adapter, unless one is set."""
    from django.conf import settings
    adapters = dict(getattr(settings, 'SOUTH_DATABASE_ADAPTERS', None) or {})
    missing = [alias for alias, database in settings.DATABASES.items()
               if database.get('ENGINE') in OUR_ENGINES and alias not in adapters]
    if missing:
        for alias in missing:
            adapters[alias] = SOUTH_POSTGRESQL_ADAPTER
        settings.SOUTH_DATABASE_ADAPTERS = adapters
