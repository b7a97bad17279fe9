"""Settings of the GeoDjango test project: one PostGIS alias from DATABASE_URL.

``tests/integration/test_postgis.py`` runs this project's ``manage.py``; the
layout (settings, app and manage.py in one folder) works from Django 1.3 to 6.1.
Knobs: ``DBPOOL_GIS_ENGINE`` (default the pooled PostGIS ENGINE) and
``DBPOOL_GIS_NAME`` (another database on the same server).
"""
from __future__ import absolute_import, division, print_function

import os

from dbpool.testing.pgcluster import parse_database_url

SECRET_KEY = 'dbpool-gis-tests'
DEBUG = False
TIME_ZONE = 'UTC'
USE_TZ = True
USE_I18N = False
ALLOWED_HOSTS = ['testserver']
INSTALLED_APPS = ['django.contrib.contenttypes', 'django.contrib.gis', 'places']
MIDDLEWARE = []
MIDDLEWARE_CLASSES = []
ROOT_URLCONF = 'places.urls'
# The implicit primary key is an AutoField on every release (3.2+ reads this).
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'

_database = parse_database_url(os.environ['DATABASE_URL'])
if os.environ.get('DBPOOL_GIS_NAME'):
    _database['NAME'] = os.environ['DBPOOL_GIS_NAME']
_engine = os.environ.get('DBPOOL_GIS_ENGINE', 'dbpool.db.backends.postgis')
_options = {'application_name': 'dbpool-gis'}
if _engine.startswith('dbpool.'):
    # MIN_CONNS: the housekeeper opens connections of its own, which must
    # be as ready for geometries as the ones a request opens.
    _options.update(MAX_CONNS=4, MIN_CONNS=2, POOL_TIMEOUT=10)
_database.update(ENGINE=_engine, OPTIONS=_options)
DATABASES = {'default': _database}
