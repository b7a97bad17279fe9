"""Settings of the django-tenants project: one alias, django-tenants' ENGINE over ours.

``tests/stacking/test_django_tenants.py`` runs this project in child
processes. Knobs (environment): ``DATABASE_URL``; ``DBPOOL_TENANTS_ORIGINAL``
(ORIGINAL_BACKEND, default the pooled PostgreSQL ENGINE);
``DBPOOL_TENANTS_LIMIT_SET_CALLS`` (TENANT_LIMIT_SET_CALLS);
``DBPOOL_TENANTS_RECEIVERS`` (install django.contrib.postgres, whose
connection_created receiver registers type handlers);
``DBPOOL_TENANTS_CONN_MAX_AGE``; ``DBPOOL_TENANTS_MAX_CONNS``.
"""
from __future__ import absolute_import, division, print_function

import os

from dbpool.testing.pgcluster import parse_database_url

SECRET_KEY = 'dbpool-tenants-tests'
DEBUG = False
USE_TZ = True
TIME_ZONE = 'UTC'
ALLOWED_HOSTS = ['*']
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
ROOT_URLCONF = 'tenantsurls'

# notes is shared and per tenant: every schema, public included, has a
# notes_note table, so a session on the wrong schema reads rows, not errors.
SHARED_APPS = ['django_tenants', 'customers', 'notes', 'django.contrib.contenttypes', 'dbpool']
TENANT_APPS = ['notes', 'django.contrib.contenttypes']
if os.environ.get('DBPOOL_TENANTS_RECEIVERS'):
    SHARED_APPS.append('django.contrib.postgres')
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]
TENANT_MODEL = 'customers.Client'
TENANT_DOMAIN_MODEL = 'customers.Domain'
TENANT_LIMIT_SET_CALLS = bool(os.environ.get('DBPOOL_TENANTS_LIMIT_SET_CALLS'))
DATABASE_ROUTERS = ['django_tenants.routers.TenantSyncRouter']
MIDDLEWARE = ['django_tenants.middleware.main.TenantMainMiddleware']

ORIGINAL_BACKEND = os.environ.get('DBPOOL_TENANTS_ORIGINAL', 'dbpool.db.backends.postgresql')
_database = parse_database_url(os.environ['DATABASE_URL'])
_database.update(
    ENGINE='django_tenants.postgresql_backend',
    CONN_MAX_AGE=int(os.environ.get('DBPOOL_TENANTS_CONN_MAX_AGE', '0')),
    OPTIONS={'application_name': 'dbpool-tenants', 'POOL_TIMEOUT': 10,
             'MAX_CONNS': int(os.environ.get('DBPOOL_TENANTS_MAX_CONNS', '1')),
             'MIN_CONNS': 0})
DATABASES = {'default': _database}
