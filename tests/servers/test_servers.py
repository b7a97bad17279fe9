"""testprojects/modern behind real servers: one per concurrency model.

Each test starts a server on the project (its own database, migrated),
sends it many concurrent requests and checks: every response is 200, the
project never has more server sessions than MAX_CONNS per process, and
afterwards no connection is left checked out (each process's pool
statistics, from GET /process/) and none is left inside a transaction
(pg_stat_activity), and the server printed no traceback.

The models: threads (gunicorn gthread, Django's runserver), prefork
(gunicorn sync workers with --preload), ASGI (uvicorn: sync views, async
views using sync_to_async, Django 4.1+'s async ORM) and gevent (gunicorn's
gevent workers; psycopg2 with psycogreen, or psycopg 3). See
docs/concurrency.md.
"""
from __future__ import absolute_import, division, print_function

import sys

import django
import pytest

from dbpool.testing.pgcluster import free_port
from tests.servers.harness import (
    BAD_SIGNS, Background, count_sessions, drive, fetch, gunicorn_command, migrate,
    process_pools, project_database, project_env, require, wait_for_port)

pytestmark = pytest.mark.skipif(django.VERSION < (3, 1),
                                reason='the async views and /process/ need Django 3.1+')

MAX_CONNS = 2
REQUESTS = 120
CLIENTS = 8
SYNC_PATHS = ['/items/', '/items/', '/items/', '/items/add/?name=load']
ASYNC_PATHS = SYNC_PATHS + ['/async/items/', '/async/aorm/']
OK = (200, 201)  # /items/add/ answers 201 Created


def gunicorn(port, *options):
    return gunicorn_command(sys.executable, *options) + [
        '--timeout', '60', '-b', '127.0.0.1:%d' % port, 'demoproject.wsgi:application']


def uvicorn(port):
    return [sys.executable, '-m', 'uvicorn', '--host', '127.0.0.1', '--port', str(port),
            '--no-access-log', 'demoproject.asgi:application']


def runserver(port):
    # Threaded by default (one thread per request); no autoreloader child.
    return [sys.executable, 'manage.py', 'runserver', '--noreload', '127.0.0.1:%d' % port]


def serve_and_check(label, command, processes, paths, env_extra=None, after=None, held=0):
    """Run ``command`` on the project, load it, check the pools; the server's output."""
    with project_database() as (settings_dict, admin):
        dbname = settings_dict['NAME']
        env = project_env(settings_dict, MAX_CONNS, **(env_extra or {}))
        migrate(sys.executable, env)
        port = free_port()
        server = Background(command(port), env)
        try:
            assert wait_for_port(port, server.process, 60), server.output()[-3000:]
            base_url = 'http://127.0.0.1:%d' % port
            outcome = drive(base_url, paths, REQUESTS, CLIENTS, admin, dbname)
            print('\n%s: %s' % (label, outcome.summary()))
            assert outcome.failures == [], (outcome.failures[:3], server.output()[-3000:])
            assert len(outcome.statuses) == REQUESTS
            assert set(outcome.statuses) <= set(OK), server.output()[-3000:]
            assert 1 <= outcome.peak_sessions <= processes * MAX_CONNS
            pools = process_pools(base_url, attempts=6 * processes)
            check_pools_after_load(pools, processes, held)
            # Nothing is left mid-transaction or mid-query on the server.
            assert count_sessions(admin, dbname, ['active', 'idle in transaction']) == 0
            if after is not None:
                after(base_url, server)
        finally:
            server.stop()
        return server.output()


def check_pools_after_load(pools, processes, held=0):
    """Every process seen has one bounded pool with nothing (or ``held``) checked out.

    A pool is made at a process's first query: a worker the server sent no
    query-serving request has none yet (seen with gunicorn gthread, whose
    busy worker can take all the load), but at least one process has one.
    """
    assert 1 <= len(pools) <= processes
    assert any(pools.values()), pools
    for pid, stats in pools.items():
        assert len(stats) <= 1, (pid, stats)
        if not stats:
            continue
        stats = stats[0]
        print('  process %s: %s' % (pid, dict(
            (key, stats[key]) for key in ('checkouts', 'connections_open', 'connections_in_use',
                                          'checkouts_waited', 'discarded_leaked'))))
        assert stats['max_conns'] == MAX_CONNS
        assert stats['connections_in_use'] == held, (pid, stats)
        assert stats['connections_open'] <= MAX_CONNS, (pid, stats)
        assert stats['checkout_timeouts'] == 0, (pid, stats)
        assert stats['discarded_leaked'] == 0, (pid, stats)


def assert_clean(output):
    for sign in BAD_SIGNS:
        assert sign not in output, output[-3000:]


# -- Threads ----------------------------------------------------------------------

def test_gunicorn_gthread_workers_share_one_bounded_pool_per_process():
    require('gunicorn')
    output = serve_and_check(
        'gunicorn -k gthread --threads 4 -w 2',
        lambda port: gunicorn(port, '-k', 'gthread', '--threads', '4', '-w', '2'),
        processes=2, paths=SYNC_PATHS)
    assert_clean(output)


def test_runserver_threads_share_one_bounded_pool():
    # Before Django 5.1 runserver's main thread keeps the connection its
    # migration check opened, for the server's life: one slot stays out.
    held = 0 if django.VERSION >= (5, 1) else 1
    output = serve_and_check('runserver (threaded)', runserver, processes=1, paths=SYNC_PATHS,
                             held=held)
    assert_clean(output)


# -- Prefork ----------------------------------------------------------------------

def test_gunicorn_preloaded_sync_workers_each_return_every_connection():
    require('gunicorn')
    output = serve_and_check(
        'gunicorn --preload -w 3 (sync)',
        lambda port: gunicorn(port, '--preload', '-w', '3', '--threads', '1'),
        processes=3, paths=SYNC_PATHS)
    assert_clean(output)


# -- ASGI -------------------------------------------------------------------------

def test_uvicorn_serves_sync_and_async_views_from_one_bounded_pool():
    require('uvicorn')
    paths = ASYNC_PATHS if django.VERSION >= (4, 1) else ASYNC_PATHS[:-1]

    def direct_orm_is_refused(base_url, server):
        # An async view that queries without sync_to_async: Django's own
        # SynchronousOnlyOperation, before any connection is checked out.
        status, _ = fetch(base_url + '/async/direct/')
        assert status == 500
        pools = process_pools(base_url, attempts=1)
        check_pools_after_load(pools, 1)

    output = serve_and_check('uvicorn (ASGI)', uvicorn, processes=1, paths=paths,
                             after=direct_orm_is_refused)
    assert 'SynchronousOnlyOperation' in output
    # The only traceback is the refused direct ORM call.
    assert output.count('Traceback') == 1, output[-3000:]


# -- gevent -----------------------------------------------------------------------

def test_gunicorn_gevent_workers_share_one_bounded_pool():
    require('gevent')
    require('gunicorn')
    try:
        import psycopg  # noqa: F401 - Django 4.2+ prefers it; it cooperates by itself
    except ImportError:
        require('psycogreen')  # psycopg2 needs its wait callback
    output = serve_and_check(
        'gunicorn -k gevent -w 1',
        lambda port: gunicorn(port, '-k', 'gevent', '--worker-connections', '50', '-w', '1',
                              '-c', 'python:tests.servers.gunicorn_gevent'),
        processes=1, paths=SYNC_PATHS)
    assert_clean(output)
