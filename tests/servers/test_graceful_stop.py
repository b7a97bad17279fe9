"""Real servers stopped with SIGTERM under load: warm start, drain, and what the server logs.

Each test serves the demo project (with a slow view, tests/servers/
lifecycle_app.py) on a private PostgreSQL cluster that logs how every
session ended (tests/server_log.py), keeps clients busy, sends SIGTERM
while requests are in flight, and checks: every request in flight at
SIGTERM succeeded, and the server logged no session of the project that
ended without the protocol's goodbye ("unexpected EOF", a reset). The
warm-start tests count the project's sessions in pg_stat_activity before
any request. See docs/lifecycle.md.
"""
from __future__ import absolute_import, division, print_function

import os
import shutil
import signal
import sys
import tempfile
import threading
import time

import django
import pytest

from dbpool.testing.pgcluster import free_port
from tests import server_log
from tests.servers.harness import (
    APPLICATION_NAME, BAD_SIGNS, Background, count_sessions, fetch, gunicorn_command, migrate,
    process_pools, project_env, require, stop, wait_for_port)
from tests.support import Admin, wait_until

pytestmark = pytest.mark.skipif(django.VERSION < (3, 1),
                                reason='the ASGI lifespan wrapper and /process/ need Django 3.1+')

HERE = os.path.dirname(os.path.abspath(__file__))
GUNICORN_CONF = os.path.join(HERE, 'gunicorn_lifecycle.conf.py')
APP = 'tests.servers.lifecycle_app'
MAX_CONNS = 3
MIN_CONNS = 2
CLIENTS = 6
LOAD_S = 1.5
SLOW_S = 0.5


@pytest.fixture(scope='module')
def cluster():
    cluster = server_log.start_logging_cluster()
    yield cluster
    cluster.destroy()


@pytest.fixture
def project(cluster):
    """(settings dict, Admin) of a fresh, migrated database of the project on ``cluster``."""
    admin = Admin(cluster.settings())
    name = 'dbpool_stop_%d' % free_port()
    admin.query('CREATE DATABASE %s' % name)
    settings_dict = dict(cluster.settings(), NAME=name)
    migrate(sys.executable, environment(settings_dict))
    try:
        yield settings_dict, admin
    finally:
        admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                    'WHERE datname = %s', [name])
        wait_until(lambda: not admin.query(
            'SELECT 1 FROM pg_stat_activity WHERE datname = %s', [name]))
        admin.query('DROP DATABASE IF EXISTS %s' % name)
        admin.close()


def environment(settings_dict, **extra):
    env = project_env(settings_dict, MAX_CONNS, MIN_CONNS,
                      DJANGO_SETTINGS_MODULE='tests.servers.lifecycle_settings',
                      DBPOOL_SLOW_S=str(SLOW_S), **extra)
    env['PYTHONPATH'] = os.pathsep.join([env['PYTHONPATH'], HERE])
    return env


class Load(object):
    """Clients that GET /slow/ until told to stop; what became of each request."""

    def __init__(self, base_url, clients=CLIENTS):
        self.base_url = base_url
        self.results = []  # (started, ended, status or the exception)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        # Started a slow request's share apart, so that the clients do not
        # finish their requests together (then none would be in flight when
        # the test sends SIGTERM).
        self._threads = [threading.Thread(target=self._client, args=(SLOW_S * index / clients,))
                         for index in range(clients)]

    def start(self):
        for thread in self._threads:
            thread.start()

    def _client(self, delay):
        time.sleep(delay)
        while not self._stopping.is_set():
            started = time.time()
            try:
                outcome = fetch(self.base_url + '/slow/', timeout=60)[0]
            except Exception as exc:  # reported by the test
                outcome = exc
            with self._lock:
                self.results.append((started, time.time(), outcome))

    def stop_sending(self):
        self._stopping.set()

    def join(self):
        for thread in self._threads:
            thread.join(60)

    def in_flight_at(self, moment):
        return [result for result in self.results if result[0] < moment < result[1]]

    def failures(self):
        return [result for result in self.results if result[2] != 200]


def stop_under_load(server, base_url):
    """Load the server, SIGTERM it mid-load; the Load (every request was sent before SIGTERM)."""
    load = Load(base_url)
    load.start()
    time.sleep(LOAD_S)
    # No request is sent after this: every one was accepted before SIGTERM,
    # so each counts as in flight; those in the slow query are mid-request.
    load.stop_sending()
    time.sleep(0.1)
    sigterm_at = time.time()
    server.process.send_signal(signal.SIGTERM)
    load.join()
    stop(server.process, 30)
    return load, sigterm_at


def check_graceful(load, sigterm_at, server, cluster, admin, dbname):
    in_flight = load.in_flight_at(sigterm_at)
    output = server.output()
    print('\n%d requests, %d in flight at SIGTERM, %d failed; exit status %s' % (
        len(load.results), len(in_flight), len(load.failures()), server.process.returncode))
    assert in_flight, 'no request was in flight at SIGTERM: the test proves nothing'
    assert load.failures() == [], (load.failures()[:3], output[-3000:])
    assert wait_until(lambda: count_sessions(admin, dbname) == 0, 15)
    assert server_log.disconnections(cluster, APPLICATION_NAME) >= MIN_CONNS
    assert server_log.goodbye_problems(cluster, APPLICATION_NAME) == [], output[-3000:]
    for sign in BAD_SIGNS:
        assert sign not in output, output[-3000:]


def gunicorn(port, *options):
    return gunicorn_command(sys.executable, '-c', GUNICORN_CONF, *options) + [
        '--timeout', '60', '-b', '127.0.0.1:%d' % port, APP + ':application']


def uvicorn(port):
    return [sys.executable, '-m', 'uvicorn', '--host', '127.0.0.1', '--port', str(port),
            '--no-access-log', '--lifespan', 'on', APP + ':asgi_application']


# -- gunicorn -------------------------------------------------------------------------

def test_gunicorn_workers_warm_up_then_stop_under_load_with_every_session_said_goodbye(
        cluster, project):
    require('gunicorn')
    settings_dict, admin = project
    dbname = settings_dict['NAME']
    port = free_port()
    server = Background(gunicorn(port, '-k', 'gthread', '-w', '2', '--threads', '4'),
                        environment(settings_dict))
    try:
        assert wait_for_port(port, server.process, 60), server.output()[-3000:]
        # post_worker_init opened MIN_CONNS in each worker before it served.
        assert wait_until(lambda: count_sessions(admin, dbname) == 2 * MIN_CONNS, 15), \
            count_sessions(admin, dbname)
        load, sigterm_at = stop_under_load(server, 'http://127.0.0.1:%d' % port)
    finally:
        server.stop()
    check_graceful(load, sigterm_at, server, cluster, admin, dbname)


def test_a_preload_master_that_imports_the_hooks_holds_no_session_of_its_own(cluster, project):
    require('gunicorn')
    settings_dict, admin = project
    dbname = settings_dict['NAME']
    port = free_port()
    # The application calls warm_up() as it is imported, in the master.
    server = Background(gunicorn(port, '--preload', '-w', '2'),
                        environment(settings_dict, DBPOOL_WARM_AT_IMPORT='1'))
    try:
        assert wait_for_port(port, server.process, 60), server.output()[-3000:]
        assert wait_until(lambda: count_sessions(admin, dbname) == 2 * MIN_CONNS, 15)
        time.sleep(0.5)  # a master's late connection would show by now
        sessions = count_sessions(admin, dbname)
        pools = process_pools('http://127.0.0.1:%d' % port, attempts=12)
    finally:
        server.stop()
    # Every session on the server belongs to a worker's pool: none to the master.
    in_workers = sum(pool['connections_open'] for pools_of in pools.values()
                     for pool in pools_of)
    assert sessions == 2 * MIN_CONNS
    assert in_workers == sessions, pools
    assert server.process.pid not in pools


# -- uvicorn --------------------------------------------------------------------------

def test_uvicorn_lifespan_warms_up_at_startup_and_drains_at_shutdown_under_load(
        cluster, project):
    require('uvicorn')
    settings_dict, admin = project
    dbname = settings_dict['NAME']
    port = free_port()
    server = Background(uvicorn(port), environment(settings_dict))
    try:
        assert wait_for_port(port, server.process, 60), server.output()[-3000:]
        assert count_sessions(admin, dbname) == MIN_CONNS  # open before the first request
        load, sigterm_at = stop_under_load(server, 'http://127.0.0.1:%d' % port)
    finally:
        server.stop()
    assert 'Application shutdown complete' in server.output(), server.output()[-3000:]
    check_graceful(load, sigterm_at, server, cluster, admin, dbname)


# -- Celery ---------------------------------------------------------------------------

def test_celery_prefork_children_drain_when_the_worker_stops_mid_tasks(cluster, project):
    celery = require('celery')
    from tests.servers.celery_config import configure
    settings_dict, admin = project
    dbname = settings_dict['NAME']
    folder = tempfile.mkdtemp(prefix='dbpool-celery-')
    try:
        env = environment(settings_dict, DBPOOL_CELERY_SETUP='hook',
                          DBPOOL_CELERY_FOLDER=folder)
        client = configure(celery.Celery('dbpool_celery_client', fixups=[]), folder)
        worker = Background([
            sys.executable, '-m', 'celery', '-A', 'tests.servers.celery_app', 'worker',
            '-P', 'prefork', '-c', '3', '--without-heartbeat', '--without-mingle',
            '--without-gossip', '-l', 'info'], env)
        try:
            done = [client.send_task('dbpool.add_item', args=[n]) for n in range(12)]
            [result.get(timeout=60) for result in done]
            slow = [client.send_task('dbpool.sleep_in_query', args=[1.0]) for _ in range(3)]
            assert wait_until(lambda: count_sessions(admin, dbname, ['active']) >= 1, 30)
            worker.process.send_signal(signal.SIGTERM)  # Celery's warm shutdown
            finished = [result.get(timeout=60) for result in slow]
        finally:
            stop(worker.process, 60)
        output = worker.output()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print('\ncelery: %d slow tasks finished after SIGTERM; exit status %s' % (
        len(finished), worker.process.returncode))
    assert len(finished) == 3 and all(r['backend_pid'] for r in finished), output[-3000:]
    assert wait_until(lambda: count_sessions(admin, dbname) == 0, 15)
    assert server_log.disconnections(cluster, APPLICATION_NAME) >= 3
    assert server_log.goodbye_problems(cluster, APPLICATION_NAME) == [], output[-3000:]
    for sign in BAD_SIGNS:
        assert sign not in output, output[-3000:]
