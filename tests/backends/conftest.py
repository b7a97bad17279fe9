"""Django configured once for the backend tests, on the server under test."""
from __future__ import absolute_import, division, print_function

import os

import pytest

ENGINE = os.environ.get('DBPOOL_TEST_ENGINE', 'dbpool.db.backends.postgresql')


def alias_settings(engine=ENGINE, **options):
    from tests.support import database
    settings_dict = database()
    settings_dict.update(ENGINE=engine, OPTIONS=options)
    return settings_dict


def configure_django():
    import django
    from django.conf import settings
    if settings.configured:
        return
    settings.configure(
        DATABASES={
            'default': alias_settings(MAX_CONNS=4, MIN_CONNS=0, POOL_TIMEOUT=5,
                                      application_name='dbpool-default'),
            # The historic configuration, verbatim.
            'historic': alias_settings('dbpool.db.backends.postgresql_psycopg2', MAX_CONNS=1),
            'tiny': alias_settings(MAX_CONNS=1, POOL_TIMEOUT=0.3,
                                   application_name='dbpool-tiny'),
        },
        USE_TZ=True,
        TIME_ZONE='UTC',
        INSTALLED_APPS=['django.contrib.contenttypes', 'dbpool'],
        ROOT_URLCONF='tests.backends.urls',
        ALLOWED_HOSTS=['testserver'],
        SECRET_KEY='dbpool-tests',
        MIDDLEWARE=[],
    )
    if hasattr(django, 'setup'):  # 1.7+
        django.setup()


configure_django()


@pytest.fixture(autouse=True)
def fresh_pools():
    """Every test starts and ends with no connection and no pool."""
    from dbpool import registry
    from tests.backends.djangocompat import close_all
    yield
    close_all()
    registry.close_pools()


@pytest.fixture
def admin():
    from tests.support import Admin
    admin = Admin()
    yield admin
    admin.close()


# DBPOOL_TEST_SCOPE=transaction runs the backend and fault tests with every
# pool transaction-scoped unless a test names its scope or a reset policy
# other than 'auto' (transaction scope needs 'auto'): tox runs them so in
# some cells, after the default pass. Tests of what only request scope
# does (a connection held between statements) say so (request_scope_only).
TEST_SCOPE = os.environ.get('DBPOOL_TEST_SCOPE', 'request')
request_scope_only = pytest.mark.skipif(
    TEST_SCOPE != 'request',
    reason='holds a connection between statements, which transaction scope gives back')

if TEST_SCOPE != 'request':
    import django.db  # noqa: F401 - loads the backend (and dbpool.compat) the way Django does
    from dbpool import options as _options
    from dbpool.db import pooling as _pooling

    def _parse_with_test_scope(options, where, _parse=_options.parse_pool_options):
        options = dict(options)
        if options.get('RESET_ON_RETURN', 'auto') == 'auto':
            options.setdefault('CHECKOUT_SCOPE', TEST_SCOPE)
        return _parse(options, where)

    _pooling.parse_pool_options = _parse_with_test_scope
