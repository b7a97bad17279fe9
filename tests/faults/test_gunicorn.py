"""testprojects/modern served by gunicorn's prefork workers, on the server under test."""
from __future__ import absolute_import, division, print_function

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import django
import pytest

from dbpool.testing.pgcluster import free_port
from tests.support import Admin, database, wait_until

try:
    from urllib.parse import quote
    from urllib.request import urlopen
except ImportError:  # Python 2
    from urllib import quote
    from urllib2 import urlopen

try:
    import gunicorn  # noqa: F401
except ImportError:
    gunicorn = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODERN = os.path.join(ROOT, 'testprojects', 'modern')
WORKERS = 3
MAX_CONNS = 2
REQUESTS = 60
CLIENTS = 6
BAD_SIGNS = ('SSL error', 'server closed the connection', 'Traceback')


def run_bounded(args, env, timeout):
    """Run a command (Python 2 has no subprocess timeout); (returncode, output)."""
    output = tempfile.TemporaryFile()
    process = subprocess.Popen(args, cwd=MODERN, env=env, stdout=output,
                               stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    while process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    if process.poll() is None:
        process.kill()
        process.wait()
    output.seek(0)
    return process.returncode, output.read().decode('utf-8', 'replace')


def stop(process, timeout=10):
    """SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    deadline = time.time() + timeout
    while process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    if process.poll() is None:
        process.kill()
        process.wait()


def wait_for_port(port, process, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return True
        except (OSError, socket.error):
            time.sleep(0.1)
    return False


@pytest.fixture
def demo_database():
    """A database of its own for the demo project (its tables differ between releases)."""
    settings_dict = database()
    admin = Admin()
    name = 'dbpool_gunicorn_%s' % uuid.uuid4().hex[:10]
    try:
        admin.query('CREATE DATABASE %s' % name)
        created = True
    except Exception:  # no CREATEDB right (an external DATABASE_URL): use the one given
        name, created = settings_dict['NAME'], False
    settings_dict['NAME'] = name
    yield settings_dict, admin
    if created:
        sessions = 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s'
        if not wait_until(lambda: not admin.query(sessions.replace(
                'pg_terminate_backend(pid)', '1'), [name])):
            admin.query(sessions, [name])  # a worker that outlived stop()
            wait_until(lambda: not admin.query(sessions.replace(
                'pg_terminate_backend(pid)', '1'), [name]))
        admin.query('DROP DATABASE IF EXISTS %s' % name)
    admin.close()


def fetch(url):
    response = urlopen(url, timeout=15)
    try:
        return response.getcode(), json.loads(response.read().decode('utf-8'))
    finally:
        response.close()


@pytest.mark.skipif(gunicorn is None, reason='gunicorn not installed in this cell')
@pytest.mark.skipif(django.VERSION < (1, 7), reason='testprojects/modern needs Django 1.7+')
def test_gunicorn_preforked_workers_each_get_their_own_bounded_pool(demo_database):
    settings_dict, admin = demo_database
    url = 'postgres://%s:%s@%s:%s/%s' % tuple(quote(str(settings_dict[key]), safe='') for key in (
        'USER', 'PASSWORD', 'HOST', 'PORT', 'NAME'))
    env = dict(os.environ, DATABASE_URL=url, DBPOOL_MAX_CONNS=str(MAX_CONNS),
               DBPOOL_MIN_CONNS='1', DJANGO_SETTINGS_MODULE='demoproject.settings',
               PYTHONPATH=os.pathsep.join([MODERN, ROOT]))
    env.pop('DBPOOL_ENGINE', None)
    code, output = run_bounded([sys.executable, 'manage.py', 'migrate', '--noinput'], env, 60)
    assert code == 0, output

    port = free_port()
    errors_file = tempfile.TemporaryFile()
    server = subprocess.Popen(
        [sys.executable, '-c', 'from gunicorn.app.wsgiapp import run; run()',
         '--preload', '-w', str(WORKERS), '--threads', '1', '--timeout', '30',
         '-b', '127.0.0.1:%d' % port, 'demoproject.wsgi:application'],
        cwd=MODERN, env=env, stdout=errors_file, stderr=subprocess.STDOUT)
    statuses, backend_pids, failures = [], set(), []
    peak = [0]
    try:
        assert wait_for_port(port, server), 'gunicorn did not start'
        lock = threading.Lock()
        sampling = threading.Event()
        sampling.set()

        def sample():
            while sampling.is_set():
                count = admin.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                    "'dbpool-demo' AND datname = %s", [settings_dict['NAME']])[0][0]
                peak[0] = max(peak[0], count)
                time.sleep(0.01)

        def client():
            for _ in range(REQUESTS // CLIENTS):
                try:
                    status, body = fetch('http://127.0.0.1:%d/items/' % port)
                    with lock:
                        statuses.append(status)
                        backend_pids.add(body['backend_pid'])
                except Exception as exc:
                    with lock:
                        failures.append(exc)

        sampler = threading.Thread(target=sample)
        sampler.start()
        clients = [threading.Thread(target=client) for _ in range(CLIENTS)]
        started = time.time()
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(60)
        seconds = time.time() - started
        sampling.clear()
        sampler.join(10)
    finally:
        stop(server)
    errors_file.seek(0)
    log = errors_file.read().decode('utf-8', 'replace')
    print('\ngunicorn --preload -w %d: %d requests in %.2f s, statuses %s, %d backend pids, '
          'peak sessions %d (bound %d), failures %d' % (
              WORKERS, len(statuses) + len(failures), seconds, sorted(set(statuses)),
              len(backend_pids), peak[0], WORKERS * MAX_CONNS, len(failures)))
    assert failures == [], (failures[:3], log[-3000:])
    assert statuses == [200] * REQUESTS
    assert len(backend_pids) >= 2
    assert 1 <= peak[0] <= WORKERS * MAX_CONNS
    for sign in BAD_SIGNS:
        assert sign not in log, log[-3000:]
