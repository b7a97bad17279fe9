"""The sample project's own test suite, run by Django's test runner through our ENGINE.

Each run must create and destroy its test database cleanly: also with
--keepdb, --parallel (which clones the test database as a template) and when
a test fails. Pooled connections left open would make DROP DATABASE or
CREATE DATABASE ... TEMPLATE fail with "being accessed by other users".
"""
from __future__ import absolute_import, division, print_function

import os
import subprocess
import sys

import pytest

from tests.support import Admin, database

PROJECT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       'testprojects', 'modern')

try:
    from urllib.parse import quote
except ImportError:  # Python 2
    from urllib import quote

try:
    import django
    MODERN = django.VERSION >= (4, 2)
except ImportError:
    MODERN = False

pytestmark = pytest.mark.skipif(not MODERN, reason='testprojects/modern needs Django 4.2+')


def database_url():
    db = database()
    return 'postgres://%s:%s@%s:%s/%s' % (quote(db['USER'], ''), quote(db['PASSWORD'], ''),
                                         db['HOST'], db['PORT'], db['NAME'])


def manage(*args, **env):
    environ = dict(os.environ, DATABASE_URL=database_url(), **env)
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
