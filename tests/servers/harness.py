"""Real servers and workers running testprojects/modern, on the server under test.

Shared by tests/servers and tests/faults/test_gunicorn.py: a database of
its own for the project, starting a server or worker process and stopping
it, sending it requests from client threads while counting the project's
sessions in pg_stat_activity, and ``require()`` for the optional tools.

``require(module, cell_name)`` decides what a missing tool means: a cell
whose tox ``setenv`` names the tool in ``DBPOOL_REQUIRE`` (a comma
separated list, e.g. ``gevent,uvicorn,celery``) installed it on purpose,
so its absence fails the test; elsewhere the test is skipped, saying so.
"""
from __future__ import absolute_import, division, print_function

import contextlib
import importlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from tests.support import Admin, database, required_tools, wait_until

try:
    from urllib.parse import quote
    from urllib.request import urlopen
    from urllib.error import HTTPError
except ImportError:  # Python 2
    from urllib import quote
    from urllib2 import HTTPError, urlopen

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODERN = os.path.join(ROOT, 'testprojects', 'modern')
APPLICATION_NAME = 'dbpool-demo'  # testprojects/modern's application_name
# Lines that must never appear in a server's output after a clean run.
BAD_SIGNS = ('SSL error', 'server closed the connection', 'Traceback')


# -- Optional tools -------------------------------------------------------------

def require(module_name, tool=None):
    """Import ``module_name``; fail if DBPOOL_REQUIRE names ``tool``, else skip."""
    tool = tool or module_name.split('.')[0]
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        if tool in required_tools():
            pytest.fail('%s is required in this cell (DBPOOL_REQUIRE) but cannot be '
                        'imported: %s' % (tool, exc))
        pytest.skip('%s is not installed in this cell (a tox dep of the cells that '
                    'set DBPOOL_REQUIRE=%s)' % (tool, tool))


# -- Processes ------------------------------------------------------------------

def run_bounded(args, env, timeout, cwd=MODERN):
    """Run a command (Python 2 has no subprocess timeout); (returncode, output)."""
    output = tempfile.TemporaryFile()
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=output,
                               stderr=subprocess.STDOUT)
    _wait_or_kill(process, timeout)
    output.seek(0)
    return process.returncode, output.read().decode('utf-8', 'replace')


def stop(process, timeout=10):
    """SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    _wait_or_kill(process, timeout)


def _wait_or_kill(process, timeout):
    # Python 2 has no Popen.wait(timeout).
    deadline = time.time() + timeout
    while process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    if process.poll() is None:
        process.kill()
        process.wait()


def wait_for_port(port, process, timeout=30):
    """True once something accepts on ``port``; False if ``process`` died or time ran out."""
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return True
        except (OSError, socket.error):
            time.sleep(0.1)
    return False


class Background(object):
    """A process whose output goes to a temporary file, read with ``output()``."""

    def __init__(self, args, env, cwd=MODERN):
        self.args = args
        self._file = tempfile.TemporaryFile()
        self.process = subprocess.Popen(args, cwd=cwd, env=env, stdout=self._file,
                                        stderr=subprocess.STDOUT)

    def output(self):
        """Everything the process printed so far."""
        self._file.seek(0)
        return self._file.read().decode('utf-8', 'replace')

    def stop(self):
        stop(self.process)


def gunicorn_command(python, *options):
    """The command line of a gunicorn run from ``python`` with ``options``."""
    command = [python, '-c', 'from gunicorn.app.wsgiapp import run; run()'] + list(options)
    if _gunicorn_has_control_socket():
        # gunicorn 24+ opens a control socket at one fixed path per user,
        # which two servers at once (tox runs cells in parallel) would share.
        command.append('--no-control-socket')
    return command


def _gunicorn_has_control_socket():
    try:
        from gunicorn.config import KNOWN_SETTINGS
    except ImportError:
        return False
    return any(setting.name == 'control_socket_disable' for setting in KNOWN_SETTINGS)


# -- The project's database -------------------------------------------------------

@contextlib.contextmanager
def project_database(prefix='dbpool_serve'):
    """(settings dict, Admin) of a fresh database for the project, dropped afterwards."""
    settings_dict = database()
    admin = Admin()
    name = '%s_%s' % (prefix, uuid.uuid4().hex[:10])
    try:
        admin.query('CREATE DATABASE %s' % name)
        created = True
    except Exception:  # no CREATEDB right (an external DATABASE_URL): use the one given
        name, created = settings_dict['NAME'], False
    settings_dict['NAME'] = name
    try:
        yield settings_dict, admin
    finally:
        if created:
            _drop_database(admin, name)
        admin.close()


def _drop_database(admin, name):
    sessions = 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s'
    count = sessions.replace('pg_terminate_backend(pid)', '1')
    if not wait_until(lambda: not admin.query(count, [name])):
        admin.query(sessions, [name])  # a worker that outlived stop()
        wait_until(lambda: not admin.query(count, [name]))
    admin.query('DROP DATABASE IF EXISTS %s' % name)


def database_url(settings_dict):
    """postgres://user:password@host:port/name for ``settings_dict``."""
    return 'postgres://%s:%s@%s:%s/%s' % tuple(
        quote(str(settings_dict[key]), safe='') for key in (
            'USER', 'PASSWORD', 'HOST', 'PORT', 'NAME'))


def project_env(settings_dict, max_conns, min_conns=1, **extra):
    """The environment that points testprojects/modern at ``settings_dict``."""
    env = dict(os.environ, DATABASE_URL=database_url(settings_dict),
               DBPOOL_MAX_CONNS=str(max_conns), DBPOOL_MIN_CONNS=str(min_conns),
               DJANGO_SETTINGS_MODULE='demoproject.settings',
               PYTHONPATH=os.pathsep.join([MODERN, ROOT]))
    env.pop('DBPOOL_ENGINE', None)
    env.update(extra)
    return env


def migrate(python, env):
    """``manage.py migrate`` of the project; fails the test if it fails."""
    code, output = run_bounded([python, 'manage.py', 'migrate', '--noinput'], env, 120)
    assert code == 0, output


def count_sessions(admin, dbname, states=None):
    """The project's sessions in ``dbname`` (only those in ``states``, if given)."""
    sql = ('SELECT count(*) FROM pg_stat_activity WHERE application_name = %s '
           'AND datname = %s')
    params = [APPLICATION_NAME, dbname]
    if states:
        sql += ' AND state IN (%s)' % ', '.join(['%s'] * len(states))
        params.extend(states)
    return admin.query(sql, params)[0][0]


# -- Requests -------------------------------------------------------------------

def fetch(url, timeout=30):
    """(status, parsed JSON body or None) of a GET; an HTTP error is a status too."""
    try:
        response = urlopen(url, timeout=timeout)
    except HTTPError as exc:
        return exc.code, None
    try:
        return response.getcode(), json.loads(response.read().decode('utf-8'))
    finally:
        response.close()


class LoadOutcome(object):
    """What ``drive()`` saw: statuses, failures, backend pids and the peak session count."""

    def __init__(self):
        self.statuses = []
        self.failures = []
        self.backend_pids = set()
        self.peak_sessions = 0
        self.seconds = 0.0

    def summary(self):
        return ('%d requests in %.2f s, statuses %s, %d backend pids, peak sessions %d, '
                'failures %d' % (len(self.statuses) + len(self.failures), self.seconds,
                                 sorted(set(self.statuses)), len(self.backend_pids),
                                 self.peak_sessions, len(self.failures)))


def drive(base_url, paths, requests, clients, admin, dbname):
    """GET ``paths`` in turn, ``requests`` in all, from ``clients`` threads, sampling sessions."""
    outcome = LoadOutcome()
    lock = threading.Lock()
    counter = iter(range(requests))
    sampling = threading.Event()
    sampling.set()

    def sample():
        while sampling.is_set():
            outcome.peak_sessions = max(outcome.peak_sessions, count_sessions(admin, dbname))
            time.sleep(0.01)

    def client():
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            try:
                status, body = fetch(base_url + paths[index % len(paths)])
            except Exception as exc:  # reported by the test
                with lock:
                    outcome.failures.append(exc)
                continue
            with lock:
                outcome.statuses.append(status)
                if isinstance(body, dict) and 'backend_pid' in body:
                    outcome.backend_pids.add(body['backend_pid'])

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.time()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        outcome.seconds = time.time() - started
        sampling.clear()
        sampler.join(10)
    return outcome


def process_pools(base_url, attempts):
    """{server pid: its pools' statistics} from GET /process/, ``attempts`` times."""
    seen = {}
    for _ in range(attempts):
        status, body = fetch(base_url + '/process/')
        assert status == 200, status
        seen[body['pid']] = body['pools']
    return seen
