"""The pytest plugin, run for real in a child pytest: cluster up, DATABASE_URL set, cluster gone."""
from __future__ import absolute_import, division, print_function

import os
import shutil
import tempfile

import pytest

from tests.kit_support import (
    PROBE, PYTHON, assert_cluster_gone, dbpool_is_installed, environment_without_database_url,
    needs_kit_cell, probe_values, run)

# What the downstream suite sees: DATABASE_URL when its conftest.py is
# imported (as Django settings are under pytest-django), and the fixtures.
CONFTEST = '''
import os
URL_AT_IMPORT = os.environ.get('DATABASE_URL')
'''

TESTS = '''
import os
import subprocess
import sys

import conftest

PROBE = %r


def test_probe(dbpool_database_url, dbpool_database, dbpool_pgcluster):
    assert os.environ['DATABASE_URL'] == dbpool_database_url
    print('')  # after pytest's progress output
    print('AT_IMPORT=%%s' %% conftest.URL_AT_IMPORT)
    print('HAS_CLUSTER=%%s' %% (dbpool_pgcluster is not None))
    print('NAME=%%s' %% dbpool_database['NAME'])
    if dbpool_pgcluster is not None:
        # A subprocess inherits DATABASE_URL and reaches the server.
        out = subprocess.check_output([sys.executable, '-c', PROBE, '0'])
        print(out.decode('utf-8'))


def test_outcome():
    assert not os.environ.get('DBPOOL_KIT_FAIL'), 'failing on purpose'
''' % PROBE


@pytest.fixture
def suite():
    """A downstream test suite in its own dir, with its own pytest.ini."""
    path = tempfile.mkdtemp(prefix='dbpool-kit-suite-')
    with open(os.path.join(path, 'conftest.py'), 'w') as handle:
        handle.write(CONFTEST)
    with open(os.path.join(path, 'test_downstream.py'), 'w') as handle:
        handle.write(TESTS)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def write_ini(suite, text):
    with open(os.path.join(suite, 'pytest.ini'), 'w') as handle:
        handle.write('[pytest]\n' + text)


def pytest_run(suite, *args, **env):
    """Run pytest with the plugin on ``suite``; (exit status, output, values printed)."""
    code, out, err = run([PYTHON, '-m', 'pytest', '-p', 'dbpool.testing.pytest_plugin',
                          '-p', 'no:cacheprovider', '-s'] + list(args) + [suite],
                         env=environment_without_database_url(**env), cwd=suite)
    values = dict(line.split('=', 1) for line in out.splitlines()
                  if line.split('=', 1)[0] in ('AT_IMPORT', 'HAS_CLUSTER', 'NAME'))
    values.update(probe_values(out))
    return code, out + err, values


@needs_kit_cell
def test_pgcluster_option_sets_database_url_before_conftest_and_removes_the_cluster(suite):
    code, output, values = pytest_run(suite, '--pgcluster')
    assert code == 0, output
    assert values['AT_IMPORT'].startswith('postgres://dbpool:')
    assert values['HAS_CLUSTER'] == 'True'
    assert 'dbpool: private PostgreSQL cluster on 127.0.0.1:%s' % values['PORT'] in output
    assert_cluster_gone(values)


@needs_kit_cell
def test_the_ini_setting_asks_for_the_cluster_too(suite):
    write_ini(suite, 'dbpool_pgcluster = true\n')
    code, output, values = pytest_run(suite)
    assert code == 0, output
    assert values['AT_IMPORT'].startswith('postgres://')
    assert_cluster_gone(values)


@needs_kit_cell
def test_the_fixtures_alone_start_the_cluster_on_first_use(suite):
    code, output, values = pytest_run(suite)
    assert code == 0, output
    assert values['AT_IMPORT'] == 'None'  # not asked for early
    assert values['HAS_CLUSTER'] == 'True'
    assert_cluster_gone(values)


@needs_kit_cell
def test_a_failing_suite_fails_and_still_removes_the_cluster(suite):
    code, output, values = pytest_run(suite, '--pgcluster', DBPOOL_KIT_FAIL='1')
    assert code == 1, output
    assert 'failing on purpose' in output
    assert_cluster_gone(values)


@needs_kit_cell
def test_a_database_url_from_the_environment_is_used_and_no_cluster_started(suite):
    url = 'postgres://someone:pw@127.0.0.1:1/downstream'
    code, output, values = pytest_run(suite, '--pgcluster', DATABASE_URL=url)
    assert code == 0, output
    assert values['AT_IMPORT'] == url
    assert values['HAS_CLUSTER'] == 'False'
    assert values['NAME'] == 'downstream'
    assert 'dbpool: DATABASE_URL from the environment' in output


@needs_kit_cell
def test_the_plugin_is_quiet_unless_asked(suite):
    code, output, values = pytest_run(suite, '-k', 'outcome')
    assert code == 0, output
    assert 'dbpool:' not in output


@needs_kit_cell
def test_the_session_puts_database_url_back_as_it_was(monkeypatch):
    from dbpool.testing.pytest_plugin import SessionDatabase
    monkeypatch.delenv('DATABASE_URL', raising=False)
    session = SessionDatabase()
    url = session.url()
    try:
        assert os.environ['DATABASE_URL'] == url == session.cluster.url()
        assert session.url() == url  # one cluster per session
        data_dir = session.cluster.data_dir
    finally:
        session.close()
    assert 'DATABASE_URL' not in os.environ
    assert not os.path.exists(data_dir)


@needs_kit_cell
@pytest.mark.skipif(not dbpool_is_installed(),
                    reason='outside tox dbpool runs from a checkout: no entry point')
def test_the_installed_entry_point_loads_the_plugin_without_dash_p(suite):
    code, out, err = run([PYTHON, '-m', 'pytest', '-p', 'no:cacheprovider', '-s',
                          '--pgcluster', suite],
                         env=environment_without_database_url(), cwd=suite)
    assert code == 0, out + err
    assert 'dbpool: private PostgreSQL cluster' in out
