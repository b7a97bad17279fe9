"""The sample project's own test suite, run by Django's test runner through our ENGINE.

Each run must create and destroy its test database cleanly: also with
--keepdb, --parallel (which clones the test database as a template) and when
a test fails. Pooled connections left open would make DROP DATABASE or
CREATE DATABASE ... TEMPLATE fail with "being accessed by other users".
"""
from __future__ import absolute_import, division, print_function

import json
import os
import subprocess
import sys

import pytest

from tests.support import Admin, database

try:
    from urllib.parse import quote
except ImportError:  # Python 2
    from urllib import quote

import django

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# South's releases run the 1.3-layout project; 1.7+ the modern one.
LEGACY = django.VERSION[:2] < (1, 7)
PROJECT = os.path.join(HERE, 'testprojects', 'legacy' if LEGACY else 'modern')
EXPECT = '%d.%d' % django.VERSION[:2]

needs_keepdb = pytest.mark.skipif(django.VERSION[:2] < (1, 8),
                                  reason='test --keepdb arrived in Django 1.8')
needs_parallel = pytest.mark.skipif(django.VERSION[:2] < (1, 9),
                                    reason='test --parallel arrived in Django 1.9')


def database_url():
    db = database()
    return 'postgres://%s:%s@%s:%s/%s' % (quote(db['USER'], ''), quote(db['PASSWORD'], ''),
                                         db['HOST'], db['PORT'], db['NAME'])


def manage(*args, **env):
    environ = dict(os.environ, DATABASE_URL=database_url(), DBPOOL_EXPECT_DJANGO=EXPECT, **env)
    environ['PYTHONPATH'] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(PROJECT))] + sys.path)
    process = subprocess.Popen([sys.executable, 'manage.py'] + list(args), cwd=PROJECT,
                               env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.communicate()[0].decode('utf-8', 'replace')
    return process.returncode, output


def leftover_test_databases():
    admin = Admin()
    try:
        return sorted(row[0] for row in admin.query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%%'"))
    finally:
        admin.close()


def assert_passed(result):
    code, output = result
    assert code == 0, output
    assert 'OK' in output, output


def test_the_project_tests_pass_and_the_test_database_is_dropped():
    assert_passed(manage('test', '--noinput', '-v', '2'))
    assert leftover_test_databases() == []


@needs_keepdb
def test_keepdb_keeps_and_reuses_the_test_database():
    try:
        assert_passed(manage('test', '--noinput', '--keepdb'))
        kept = leftover_test_databases()
        assert len(kept) == 1
        assert_passed(manage('test', '--noinput', '--keepdb'))
        assert leftover_test_databases() == kept
    finally:
        manage('test', '--noinput')  # without --keepdb: drops it
    assert leftover_test_databases() == []


@needs_parallel
def test_parallel_runs_clone_the_test_database_and_drop_every_clone():
    result = manage('test', '--noinput', '--parallel', '2', '-v', '2')
    assert_passed(result)
    assert 'Cloning test database' in result[1]
    assert leftover_test_databases() == []


def test_a_failing_run_still_drops_the_test_database():
    code, output = manage('test', '--noinput', DBPOOL_FAIL_ON_PURPOSE='1')
    assert code == 1, output
    assert 'FAILED (failures=1' in output
    assert leftover_test_databases() == []


def test_the_demo_serves_concurrent_requests_within_max_conns():
    code, output = manage('serve_demo', '--migrate', '--threads', '8', '--requests', '300')
    assert code == 0, output
    assert 'pool_stats_json:' in output


@pytest.mark.skipif(not LEGACY, reason='South runs on Django 1.3 to 1.6 only')
def test_south_migrations_run_with_the_adapter_setting():
    assert_passed(manage('test', '--noinput', DBPOOL_SOUTH_SETTING='1'))


@pytest.mark.skipif(not LEGACY or django.VERSION[:2] >= (1, 6),
                    reason='Django 1.6 loads backends lazily: South needs the setting there')
def test_south_finds_our_engine_without_the_adapter_setting():
    # dbpool maps its ENGINE to South's PostgreSQL adapter when Django loads
    # the backend, which 1.3-1.5 do before South looks.
    assert_passed(manage('test', '--noinput', DBPOOL_SOUTH_SETTING='0'))
    for command in (['syncdb', '--noinput'], ['migrate', '--noinput']):
        code, output = manage(*command, DBPOOL_SOUTH_SETTING='0')
        assert code == 0, output


def test_the_status_command_reports_the_pooled_alias_as_json():
    code, output = manage('dbpool_status', '--json')
    assert code == 0, output
    report = json.loads(output[output.index('{'):])
    assert [alias['alias'] for alias in report['aliases']] == ['default']
    assert report['aliases'][0]['options']['MAX_CONNS'] == 4
    assert report['aliases'][0]['server']['max_connections'] > 0


@pytest.mark.skipif(LEGACY, reason='the system checks framework arrived in Django 1.7')
def test_manage_py_check_reports_a_conn_max_age_the_pool_cannot_honour():
    code, output = manage('check')
    assert code == 0, output
    assert 'dbpool.' not in output
    code, output = manage('check', DBPOOL_CONN_MAX_AGE='60')
    assert code != 0, output
    assert 'dbpool.E001' in output
    assert "DATABASES['default']['CONN_MAX_AGE'] is 60" in output
