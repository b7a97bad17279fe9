"""Shared test helpers: the database under test and a raw admin connection."""
from __future__ import absolute_import, division, print_function

import atexit
import importlib
import os
import threading
import time

from dbpool.testing.pgcluster import database_settings_from_env

_database = {}
_lock = threading.Lock()


def database():
    """NAME/USER/PASSWORD/HOST/PORT of the server under test (one per process)."""
    with _lock:
        if not _database:
            settings_dict, cluster = database_settings_from_env()
            _database.update(settings_dict)
            if cluster is not None:
                atexit.register(cluster.destroy)
    return dict(_database)


def available_drivers():
    """The PostgreSQL driver modules importable here: psycopg2 and/or psycopg."""
    drivers = []
    for name in ('psycopg2', 'psycopg'):
        try:
            drivers.append(importlib.import_module(name))
        except ImportError:
            pass
    return drivers


def connect_kwargs(settings_dict, application_name=None):
    """Driver keyword arguments for a Django-style settings dict."""
    kwargs = {
        'dbname': settings_dict['NAME'],
        'user': settings_dict['USER'],
        'password': settings_dict['PASSWORD'],
        'host': settings_dict['HOST'],
        'port': settings_dict['PORT'],
    }
    if application_name:
        kwargs['application_name'] = application_name
    return kwargs


class Admin(object):
    """A separate autocommit connection that watches and harms the others."""

    def __init__(self, settings_dict=None):
        driver = available_drivers()[0]
        self.connection = driver.connect(**connect_kwargs(settings_dict or database()))
        self.connection.autocommit = True

    def query(self, sql, params=None):
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, params)
            if cursor.description is None:
                return []
            return cursor.fetchall()
        finally:
            cursor.close()

    def backend_pids(self, application_name):
        """Server pids of the sessions with this application_name."""
        rows = self.query('SELECT pid FROM pg_stat_activity WHERE application_name = %s',
                          [application_name])
        return sorted(row[0] for row in rows)

    def terminate(self, application_name):
        """pg_terminate_backend every session with this application_name."""
        rows = self.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
            'WHERE application_name = %s', [application_name])
        return len(rows)

    def close(self):
        self.connection.close()


def run_threads_and_watch(admin, application_name, work, threads=16, closed=()):
    """Run ``work()`` in ``threads`` threads while sampling the server.

    Returns (the most sessions with ``application_name`` seen at once, the
    exceptions the threads raised). Sessions whose backend pid is in
    ``closed`` (see record_closed_sessions) are not counted: the client
    closed them, and the server is only finishing their exit.
    """
    peak = [0]
    errors = []
    running = threading.Event()
    running.set()

    def sample():
        while running.is_set():
            live = set(admin.backend_pids(application_name)) - set(closed)
            peak[0] = max(peak[0], len(live))
            time.sleep(0.005)

    def guarded():
        try:
            work()
        except Exception as exc:  # reported to the caller
            errors.append(exc)

    sampler = threading.Thread(target=sample)
    sampler.start()
    workers = [threading.Thread(target=guarded) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    running.clear()
    sampler.join()
    return peak[0], errors


def record_closed_sessions(monkeypatch):
    """A set that gets the backend pid of every connection the pool closes, before it closes it."""
    from dbpool import health
    closed = set()
    close_quietly = health.close_quietly

    def recording(connection):
        try:
            info = getattr(connection, 'info', None)
            pid = getattr(info, 'backend_pid', None) or connection.get_backend_pid()
            closed.add(pid)
        except Exception:  # already closed: nothing left on the server
            pass
        close_quietly(connection)

    monkeypatch.setattr(health, 'close_quietly', recording)
    return closed


def wait_until(predicate, timeout=10.0):
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; its last value.

    A closed session leaves pg_stat_activity a moment after the client
    closed it; tests that count sessions wait for that, boundedly.
    """
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def required_tools():
    """The optional tools this tox cell must test (DBPOOL_REQUIRE, comma separated)."""
    names = os.environ.get('DBPOOL_REQUIRE', '')
    return set(name.strip() for name in names.split(',') if name.strip())


def run_in_child(work):
    """Fork; run ``work()`` (returning text) in the child. Returns (exit status, its text).

    An exception in the child comes back as text starting with 'error'.
    """
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            message = work()
        except Exception as exc:
            message = 'error %r' % (exc,)
        os.write(write_end, message.encode('ascii'))
        os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(child, 0)
    reply = os.read(read_end, 200).decode('ascii')
    os.close(read_end)
    return status, reply
