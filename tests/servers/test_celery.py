"""A real Celery worker (prefork, 3 children) running ORM tasks on testprojects/modern.

Outside a request nothing gives a connection back, so a task's connection
stays checked out by the worker child until a hook closes it. With
``dbpool.db.tasks.connect_celery()`` (alone, or beside Celery's own Django
fixup) every child's pool has nothing checked out between tasks; without
either, the connection stays checked out. In every setup the children open
their own connections and leave the one their parent held at fork alone.
See docs/celery.md.
"""
from __future__ import absolute_import, division, print_function

import os
import shutil
import sys
import tempfile

import django
import pytest

from tests.servers.harness import (
    BAD_SIGNS, APPLICATION_NAME, Background, count_sessions, migrate, project_database,
    project_env, require)

pytestmark = pytest.mark.skipif(django.VERSION < (1, 11),
                                reason='Celery 5 (Python 3.8+) supports Django 1.11+')

CHILDREN = 3
MAX_CONNS = 2
TASKS = 30
STATE_PROBES = 24
TASK_TIMEOUT = 60


def run_worker(setup):
    """Run the worker under DBPOOL_CELERY_SETUP=``setup``; what it did and left behind."""
    celery = require('celery')
    from tests.servers.celery_config import configure
    folder = tempfile.mkdtemp(prefix='dbpool-celery-')
    try:
        with project_database('dbpool_celery') as (settings_dict, admin):
            env = project_env(settings_dict, MAX_CONNS, DBPOOL_CELERY_SETUP=setup,
                              DBPOOL_CELERY_FOLDER=folder)
            migrate(sys.executable, env)
            client = configure(celery.Celery('dbpool_celery_client', fixups=[]), folder)
            worker = Background([
                sys.executable, '-m', 'celery', '-A', 'tests.servers.celery_app', 'worker',
                '-P', 'prefork', '-c', str(CHILDREN), '-O', 'fair', '--without-heartbeat',
                '--without-mingle', '--without-gossip', '-l', 'info'], env)
            try:
                added = [client.send_task('dbpool.add_item', args=[n]) for n in range(TASKS)]
                results = [result.get(timeout=TASK_TIMEOUT) for result in added]
                probes = [client.send_task('dbpool.pool_state') for _ in range(STATE_PROBES)]
                states = [probe.get(timeout=TASK_TIMEOUT) for probe in probes]
                with open(os.path.join(folder, 'parent_backend_pid')) as source:
                    parent_pid, parent_backend = [int(word) for word in source.read().split()]
                alive = admin.backend_pids(APPLICATION_NAME)
                sessions = count_sessions(admin, settings_dict['NAME'])
                in_transaction = count_sessions(admin, settings_dict['NAME'],
                                                ['active', 'idle in transaction'])
            finally:
                worker.stop()
            output = worker.output()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    last_state = {}
    for state in states:  # the latest report of each child
        last_state[state['pid']] = state['pools']
    print('\n%s: %d tasks in %d children, backend pids %s, parent pid %d holds %d; '
          'in use per child after: %s' % (
              setup, len(results), len(set(r['pid'] for r in results)),
              sorted(set(r['backend_pid'] for r in results)), parent_pid, parent_backend,
              dict((pid, [p['connections_in_use'] for p in pools])
                   for pid, pools in last_state.items())))
    return dict(results=results, last_state=last_state, parent_pid=parent_pid,
                parent_backend=parent_backend, alive=alive, sessions=sessions,
                in_transaction=in_transaction, output=output)


def check_children_kept_to_their_own_connections(run):
    results = run['results']
    assert len(results) == TASKS
    assert all(r['item'] for r in results)
    children = set(r['pid'] for r in results)
    assert run['parent_pid'] not in children
    # Usually all three children run some (-O fair); one busy machine may
    # leave a child idle, which changes nothing below.
    assert 1 <= len(children) <= CHILDREN
    backends = set(r['backend_pid'] for r in results)
    # No child used the parent's session, and the parent's is still alive.
    assert run['parent_backend'] not in backends
    assert run['parent_backend'] in run['alive']
    # Each child's pool is bounded: MAX_CONNS per child, plus the parent's.
    assert len(backends) <= CHILDREN * MAX_CONNS
    assert run['sessions'] <= CHILDREN * MAX_CONNS + 1
    assert run['in_transaction'] == 0
    for sign in BAD_SIGNS:
        assert sign not in run['output'], run['output'][-3000:]


def in_use_by_child(run):
    return dict((pid, sum(pool['connections_in_use'] for pool in pools))
                for pid, pools in run['last_state'].items())


def test_connect_celery_gives_each_tasks_connection_back_to_the_childs_pool():
    run = run_worker('hook')
    check_children_kept_to_their_own_connections(run)
    in_use = in_use_by_child(run)
    assert in_use and set(in_use.values()) == {0}, in_use


def test_connect_celery_works_beside_celerys_own_django_fixup():
    run = run_worker('fixup+hook')
    check_children_kept_to_their_own_connections(run)
    in_use = in_use_by_child(run)
    assert in_use and set(in_use.values()) == {0}, in_use


def test_without_a_hook_a_tasks_connection_stays_checked_out_in_the_child():
    run = run_worker('none')
    check_children_kept_to_their_own_connections(run)
    in_use = in_use_by_child(run)
    # Every child that ran an ORM task still holds its connection.
    ran_orm = set(r['pid'] for r in run['results'])
    assert any(in_use.get(pid) == 1 for pid in ran_orm), in_use
