"""Settings of the dbpool demo project (Django 1.7 to 6.1).

The database comes from ``DATABASE_URL`` (postgres://user:pw@host:port/db) or,
when that is unset, from a private throwaway PostgreSQL cluster started for
this process and removed when it exits (``dbpool.testing.pgcluster``).

Environment knobs:

- ``DBPOOL_ENGINE``: the ENGINE; default ``dbpool.db.backends.postgresql``.
  ``dbpool.db.backends.postgresql_psycopg2`` is the historic alias, and
  ``django.db.backends.postgresql`` is Django's stock backend, for comparison
  (``django.db.backends.postgresql_psycopg2`` before Django 1.9).
- ``DBPOOL_MAX_CONNS`` / ``DBPOOL_MIN_CONNS``: pool size (default 4 / 1).
- ``DBPOOL_CONN_MAX_AGE``: sets CONN_MAX_AGE, which ``manage.py check`` reports.
- ``DBPOOL_LOG``: set to show the ``dbpool`` logger at INFO (or set it to a
  level name such as ``DEBUG``).

Shims for Django releases older than 4.2 are marked "compat" below.
"""
from __future__ import absolute_import, division, print_function

import os
import sys

import django

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

try:
    import dbpool  # noqa: F401
except ImportError:
    # Running from a checkout without PYTHONPATH: dbpool is two levels up.
    sys.path.insert(0, os.path.dirname(os.path.dirname(BASE_DIR)))

from dbpool.testing import loadrun  # noqa: E402

SECRET_KEY = os.environ.get('DJANGO_SECRET_KEY', 'dbpool-demo-not-a-secret')
DEBUG = False
ALLOWED_HOSTS = ['127.0.0.1', 'localhost', 'testserver']

INSTALLED_APPS = [
    'django.contrib.contenttypes',
    'django.contrib.auth',
    'shop',
    # manage.py dbpool_status and the system checks.
    'dbpool',
]

MIDDLEWARE = [
    'django.middleware.security.SecurityMiddleware',
    'django.middleware.common.CommonMiddleware',
    'django.middleware.csrf.CsrfViewMiddleware',
]
if django.VERSION < (1, 10):
    # compat: Django 1.10 added MIDDLEWARE; before it the (old-style)
    # MIDDLEWARE_CLASSES, and SecurityMiddleware only from 1.8.
    MIDDLEWARE_CLASSES = [name for name in MIDDLEWARE
                          if django.VERSION >= (1, 8) or not name.endswith('SecurityMiddleware')]

ROOT_URLCONF = 'demoproject.urls'
WSGI_APPLICATION = 'demoproject.wsgi.application'
TEMPLATES = []  # Django 1.8+; 1.7 ignores it

LANGUAGE_CODE = 'en-us'
TIME_ZONE = 'UTC'
USE_I18N = False
USE_TZ = True
# compat: the implicit primary key is an AutoField on every release, so the
# one migration (generated on Django 1.7) matches the model on 1.7 to 6.1.
# (BigAutoField only exists from 1.10, and only 3.2+ reads this setting.)
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'

# -- Database -----------------------------------------------------------------

# DATABASE_URL (else a private cluster) and the DBPOOL_* knobs above, read as
# in the legacy project: see dbpool.testing.loadrun.demo_database().
POOLED_ENGINES = loadrun.POOLED_ENGINES
# Every connection of the app carries this name, so a watcher can count them
# in pg_stat_activity apart from its own (see the serve_demo command).
APPLICATION_NAME = 'dbpool-demo'

DATABASES = {
    'default': loadrun.demo_database(APPLICATION_NAME, 'dbpool.db.backends.postgresql',
                                     label='demoproject'),
}
if os.environ.get('DBPOOL_CONN_MAX_AGE'):
    # A setting that cannot work with the pool, for the system check's test.
    DATABASES['default']['CONN_MAX_AGE'] = int(os.environ['DBPOOL_CONN_MAX_AGE'])

# -- Logging ------------------------------------------------------------------

_log_level = (os.environ.get('DBPOOL_LOG') or '').strip().upper()
if _log_level and _log_level not in ('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'):
    _log_level = 'INFO'

LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'formatters': {
        'plain': {'format': '%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s'},
    },
    'handlers': {
        'console': {'class': 'logging.StreamHandler', 'formatter': 'plain'},
    },
    'loggers': {
        # With DEBUG off Django would only mail a 500's traceback: print it.
        'django.request': {
            'handlers': ['console'],
            'level': 'ERROR',
            'propagate': False,
        },
        'dbpool': {
            'handlers': ['console'],
            'level': _log_level or 'WARNING',
            'propagate': False,
        },
    },
}
