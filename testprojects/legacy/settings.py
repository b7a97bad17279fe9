"""Settings of the legacy dbpool demo project (Django 1.3 layout, Django 1.3 to 1.6, South).

The database comes from ``DATABASE_URL`` (postgres://user:pw@host:port/db) or,
when that is unset, from a private throwaway PostgreSQL cluster started for
this process and removed when it exits (``dbpool.testing.pgcluster``).

Environment knobs:

- ``DBPOOL_ENGINE``: the ENGINE; default ``dbpool.db.backends.postgresql_psycopg2``
  (the historic name). ``django.db.backends.postgresql_psycopg2`` is Django's
  stock backend, for comparison.
- ``DBPOOL_MAX_CONNS`` / ``DBPOOL_MIN_CONNS``: pool size (default 4 / 1).
- ``DBPOOL_SOUTH_SETTING``: ``0`` leaves out SOUTH_DATABASE_ADAPTERS, so South
  must find its adapter from the ENGINE name alone.
- ``DBPOOL_LOG``: set to show the ``dbpool`` logger at INFO (or a level name).
"""
import os
import sys

BASE_DIR = os.path.dirname(os.path.abspath(__file__))

try:
    import dbpool  # noqa: F401
except ImportError:
    # Running from a checkout without PYTHONPATH: dbpool is two levels up.
    sys.path.insert(0, os.path.dirname(os.path.dirname(BASE_DIR)))

from dbpool.testing import loadrun  # noqa: E402

SECRET_KEY = os.environ.get('DJANGO_SECRET_KEY', 'dbpool-legacy-not-a-secret')
DEBUG = False
TEMPLATE_DEBUG = DEBUG
# Django 1.3.7 and 1.4.4+ check the Host header when DEBUG is off.
ALLOWED_HOSTS = ['127.0.0.1', 'localhost', 'testserver']

ADMINS = ()
MANAGERS = ADMINS

TIME_ZONE = 'UTC'
USE_TZ = True          # Django 1.4+; ignored by 1.3
LANGUAGE_CODE = 'en-us'
SITE_ID = 1
USE_I18N = False
USE_L10N = False

MIDDLEWARE_CLASSES = (
    'django.middleware.common.CommonMiddleware',
    'django.middleware.csrf.CsrfViewMiddleware',
)

# manage.py puts this directory first on sys.path, so the URLconf, the app
# and these settings import as top-level modules.
ROOT_URLCONF = 'urls'
WSGI_APPLICATION = 'wsgi.application'  # Django 1.4+ (runserver); 1.3 ignores it

INSTALLED_APPS = (
    'django.contrib.contenttypes',
    'django.contrib.auth',
    'south',
    'catalog',
    # manage.py dbpool_status.
    'dbpool',
)

# -- Database -----------------------------------------------------------------

# DATABASE_URL (else a private cluster) and the DBPOOL_* knobs above, read as
# in the modern project: see dbpool.testing.loadrun.demo_database().
POOLED_ENGINES = loadrun.POOLED_ENGINES
# Every connection of the app carries this name, so a watcher can count them
# in pg_stat_activity apart from its own (see the serve_demo command).
APPLICATION_NAME = 'dbpool-legacy'

DATABASES = {
    'default': loadrun.demo_database(APPLICATION_NAME, 'dbpool.db.backends.postgresql_psycopg2',
                                     label='legacy'),
}

# -- Tests --------------------------------------------------------------------

import django  # noqa: E402  (importing django itself reads no settings)

# What ``manage.py test`` runs when given no labels.
PROJECT_APPS = ('catalog',)

if django.VERSION[:2] < (1, 6):
    # Django 1.3 to 1.5's runner would run every installed app's tests, and
    # 1.3's cannot create a test database with psycopg2 >= 2.4.2 (that is,
    # with any psycopg2-binary): see testrunner.py.
    TEST_RUNNER = 'testrunner.LegacyTestRunner'
else:
    # Django 1.6 discovers test*.py below this directory; the runner only
    # keeps the root's __init__.py from renaming them legacy.catalog.*.
    TEST_RUNNER = 'testrunner.LegacyDiscoverRunner'

# -- South --------------------------------------------------------------------

# South picks its schema adapter from the ENGINE's module name and knows only
# Django's own backends; this names it for the pooled ENGINE. DBPOOL_SOUTH_SETTING=0
# leaves it out (to test how South copes without it).
if os.environ.get('DBPOOL_SOUTH_SETTING', '1') != '0':
    SOUTH_DATABASE_ADAPTERS = {'default': 'south.db.postgresql_psycopg2'}

# The test database is built by running the South migrations, not syncdb.
SOUTH_TESTS_MIGRATE = True

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
