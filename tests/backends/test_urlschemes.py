"""postgres+dbpool:// with the real dj-database-url and django-environ, where installed.

They are installed in one modern tox cell per driver (see tox.ini); elsewhere
these tests skip, saying so.
"""
from __future__ import absolute_import, division, print_function

import os

import pytest
from django.db import connections

from dbpool.db import urlschemes
from tests.backends.djangocompat import connect, extra_alias
from tests.support import database

try:
    from urllib.parse import quote
except ImportError:  # Python 2
    from urllib import quote

REQUIRED = os.environ.get('DBPOOL_EXPECT_URL_LIBRARIES') == '1'


def library(name):
    try:
        return __import__(name)
    except ImportError:
        if REQUIRED:
            raise  # this cell installs them: absence is a failure
        pytest.skip('%s is not installed in this environment' % name)


def url(scheme, query):
    db = database()
    return '%s://%s:%s@%s:%s/%s?%s' % (scheme, quote(db['USER'], ''), quote(db['PASSWORD'], ''),
                                       db['HOST'], db['PORT'], db['NAME'], query)


QUERY = 'MAX_CONNS=3&MIN_CONNS=0&POOL_TIMEOUT=2.5&TEST_ON_BORROW=true&LEAK_TIMEOUT=none'


def check_parsed(config):
    assert config['ENGINE'] == 'dbpool.db.backends.postgresql'
    options = config['OPTIONS']
    assert options['MAX_CONNS'] == 3 and options['MIN_CONNS'] == 0
    assert options['POOL_TIMEOUT'] == 2.5
    assert options['TEST_ON_BORROW'] is True
    assert options['LEAK_TIMEOUT'] is None


def serves_queries(config):
    settings_dict = dict(connections['default'].settings_dict)
    settings_dict.update(config)
    with extra_alias('from_url', settings_dict) as wrapper:
        connect(wrapper)
        assert wrapper._dbpool_pool.options.max_conns == 3
        wrapper.close()


@pytest.mark.parametrize('scheme', urlschemes.SCHEMES)
def test_dj_database_url_parses_the_dbpool_scheme_into_working_settings(scheme):
    dj_database_url = library('dj_database_url')
    urlschemes.register_dj_database_url()
    config = dj_database_url.parse(url(scheme, QUERY))
    check_parsed(config)
    assert config['CONN_MAX_AGE'] == 0
    serves_queries(config)


def test_django_environ_parses_the_dbpool_scheme_into_working_settings(monkeypatch):
    environ = library('environ')
    urlschemes.register_django_environ()
    monkeypatch.setenv('DATABASE_URL', url('postgres+dbpool', QUERY))
    config = urlschemes.coerce_pool_options(environ.Env().db())
    check_parsed(config)
    serves_queries(config)


def test_the_one_line_engine_switch_works_on_a_plain_postgres_url():
    dj_database_url = library('dj_database_url')
    config = dj_database_url.parse(url('postgres', 'MAX_CONNS=3'))
    config['ENGINE'] = 'dbpool.db.backends.postgresql'  # the documented one line
    serves_queries(config)


def test_text_values_become_numbers_booleans_and_none():
    config = {'OPTIONS': {'MAX_CONNS': '8', 'IDLE_TIMEOUT': '60', 'TEST_ON_BORROW': 'False',
                          'MAX_LIFETIME': 'None', 'RESET_ON_RETURN': 'rollback',
                          'sslmode': 'require'}}
    urlschemes.coerce_pool_options(config)
    assert config['OPTIONS'] == {'MAX_CONNS': 8, 'IDLE_TIMEOUT': 60.0, 'TEST_ON_BORROW': False,
                                 'MAX_LIFETIME': None, 'RESET_ON_RETURN': 'rollback',
                                 'sslmode': 'require'}
