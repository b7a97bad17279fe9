"""What settings_stock and settings_dbpool share: Django's tests/test_sqlite.py for PostgreSQL.

The server comes from DATABASE_URL (postgres://user:password@host:port/dbname);
only its user, password, host and port are used. The database names are ours:
DJSUITE_DB_NAME (default 'djsuite') for 'default' and the same with '_other'
for 'other', so Django's runner creates and drops test_djsuite and
test_djsuite_other (plus test_djsuite_1... with --parallel) and never touches
the database named in the URL.
"""
from __future__ import absolute_import, division, print_function

import json
import os

import django

from dbpool.testing.pgcluster import parse_database_url

STOCK_ENGINE = ('django.db.backends.postgresql' if django.VERSION >= (1, 9)
                else 'django.db.backends.postgresql_psycopg2')
DBPOOL_ENGINE = 'dbpool.db.backends.postgresql'

# The pool the suite runs with: small, so that a leaked checkout shows up as a
# PoolTimeout rather than hiding; DJSUITE_POOL_OPTIONS (a JSON object) overrides.
POOL_OPTIONS = {'MAX_CONNS': 4, 'MIN_CONNS': 0, 'POOL_TIMEOUT': 30}


def _server():
    url = os.environ.get('DATABASE_URL')
    if not url:
        raise RuntimeError('DATABASE_URL is not set: run through djangosuite/run.py, or '
                           'under `python -m dbpool.testing.pgcluster -- ...`')
    server = parse_database_url(url)
    del server['NAME']
    return server


def databases(engine, pool_options=None):
    """DATABASES with 'default' and 'other' on ``engine``."""
    name = os.environ.get('DJSUITE_DB_NAME') or 'djsuite'
    options = {}
    if pool_options is not None:
        options = dict(pool_options)
        options.update(json.loads(os.environ.get('DJSUITE_POOL_OPTIONS') or '{}'))
    result = {}
    for alias, db_name in (('default', name), ('other', name + '_other')):
        result[alias] = dict(_server(), ENGINE=engine, NAME=db_name, OPTIONS=dict(options))
    return result


def test_settings(engine, pool_options=None):
    """The names Django's own tests/test_sqlite.py sets, for this release."""
    names = {
        'DATABASES': databases(engine, pool_options),
        'SECRET_KEY': 'django_tests_secret_key',
        # MD5: fast, as in Django's own test settings.
        'PASSWORD_HASHERS': ['django.contrib.auth.hashers.MD5PasswordHasher'],
    }
    if (3, 2) <= django.VERSION[:2] < (6, 0):
        names['DEFAULT_AUTO_FIELD'] = 'django.db.models.AutoField'
    if django.VERSION[:2] >= (4, 0):
        names['USE_TZ'] = False
    return names
