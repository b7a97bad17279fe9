"""The dbpool-pgcluster command, run for real: cluster up, DATABASE_URL set, cluster gone."""
from __future__ import absolute_import, division, print_function

import os
import shutil
import signal
import subprocess
import tempfile

import pytest

from dbpool.testing.pgcluster_cli import parse_args
from tests.kit_support import (
    PROBE, PYTHON, assert_cluster_gone, dbpool_is_installed, environment_without_database_url,
    needs_kit_cell, probe_values, run)

CLI = [PYTHON, '-m', 'dbpool.testing.pgcluster']


@pytest.fixture
def base_dir():
    """An empty dir the server user may enter (pytest's tmpdir is private to root)."""
    path = tempfile.mkdtemp(prefix='dbpool-kit-')
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@needs_kit_cell
def test_run_sets_database_url_removes_the_cluster_and_returns_the_commands_status():
    code, out, err = run(CLI + ['run', '--', PYTHON, '-c', PROBE, '7'],
                         env=environment_without_database_url())
    assert code == 7, err
    values = probe_values(out)
    assert values['PGHOST'] == '127.0.0.1'  # psql, pg_dump find it too
    assert_cluster_gone(values)
    assert ':***@127.0.0.1:%s/' % values['PORT'] in err  # the password is not printed


@needs_kit_cell
def test_run_is_the_default_when_a_command_follows_the_double_dash():
    code, out, err = run(CLI + ['--', PYTHON, '-c', PROBE, '0'],
                         env=environment_without_database_url())
    assert code == 0, err
    assert_cluster_gone(probe_values(out))


@needs_kit_cell
def test_a_command_killed_by_a_signal_gives_128_plus_the_signal():
    code, out, err = run(CLI + ['--', PYTHON, '-c',
                                'import os, signal; os.kill(os.getpid(), signal.SIGTERM)'],
                         env=environment_without_database_url())
    assert code == 128 + signal.SIGTERM, err


@needs_kit_cell
def test_a_command_that_cannot_start_gives_127_and_removes_the_cluster(base_dir):
    code, out, err = run(CLI + ['--base-dir', base_dir, 'run', '--', 'no-such-command-dbpool'],
                         env=environment_without_database_url())
    assert code == 127, err
    assert 'cannot run no-such-command-dbpool' in err
    assert os.listdir(base_dir) == []  # the cluster's temp dir went with it


@needs_kit_cell
def test_reuse_runs_against_an_existing_database_url_without_starting_a_cluster(base_dir):
    url = 'postgres://someone:pw@127.0.0.1:1/elsewhere'
    code, out, err = run(
        CLI + ['--base-dir', base_dir, 'run', '--reuse', '--', PYTHON, '-c',
               'import os; print(os.environ["DATABASE_URL"])'],
        env=environment_without_database_url(DATABASE_URL=url))
    assert code == 0, err
    assert out.strip() == url
    assert os.listdir(base_dir) == []


@needs_kit_cell
def test_without_reuse_a_set_database_url_is_replaced_by_the_private_cluster():
    code, out, err = run(CLI + ['--', PYTHON, '-c', PROBE, '0'],
                         env=environment_without_database_url(
                             DATABASE_URL='postgres://someone:pw@127.0.0.1:1/elsewhere'))
    assert code == 0, err
    assert probe_values(out)['PORT'] != '1'


@needs_kit_cell
def test_serve_exports_the_url_until_sigterm_then_removes_the_cluster():
    server = subprocess.Popen(CLI + ['serve', '--export'], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=environment_without_database_url())
    try:
        lines = [server.stdout.readline().decode('utf-8') for _ in range(6)]
        exported = dict(line[len('export '):].strip().split('=', 1) for line in lines)
        env = environment_without_database_url(
            DATABASE_URL=exported['DATABASE_URL'].strip("'"))
        code, out, err = run([PYTHON, '-c', PROBE, '0'], env=env)
        assert code == 0, err
        values = probe_values(out)
        assert values['PORT'] == exported['PGPORT'].strip("'")
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        server.communicate()
    assert server.returncode == 0
    assert_cluster_gone(values)


@pytest.mark.parametrize('argv', [
    ['run'], ['--'], ['serve', '--', 'true'], ['bogus'], ['--port', 'x'],
])
def test_usage_errors_exit_2(argv):
    with pytest.raises(SystemExit) as info:
        parse_args(argv)
    assert info.value.code == 2


def test_arguments_after_the_double_dash_belong_to_the_command():
    options, command = parse_args(['--port', '5999', '--', 'tox', '--', '-k', 'x'])
    assert (options.action, options.port, command) == ('run', 5999, ['tox', '--', '-k', 'x'])
    options, command = parse_args([])
    assert (options.action, command) == ('serve', None)


@needs_kit_cell
@pytest.mark.skipif(not dbpool_is_installed(),
                    reason='outside tox dbpool runs from a checkout: no console script')
def test_the_installed_console_script_runs_a_command_against_a_cluster():
    script = os.path.join(os.path.dirname(PYTHON), 'dbpool-pgcluster')
    code, out, err = run([script, '--', PYTHON, '-c', PROBE, '3'],
                         env=environment_without_database_url())
    assert code == 3, err
    assert_cluster_gone(probe_values(out))
