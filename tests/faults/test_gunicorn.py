"""testprojects/modern served by gunicorn's prefork workers, on the server under test."""
from __future__ import absolute_import, division, print_function

import sys

import django
import pytest

from dbpool.testing.pgcluster import free_port
from tests.servers.harness import (
    BAD_SIGNS, Background, drive, gunicorn_command, migrate, project_database, project_env,
    wait_for_port)

try:
    import gunicorn  # noqa: F401
except ImportError:
    gunicorn = None

WORKERS = 3
MAX_CONNS = 2
REQUESTS = 60
CLIENTS = 6


@pytest.fixture
def demo_database():
    """A database of its own for the demo project (its tables differ between releases)."""
    with project_database('dbpool_gunicorn') as database_and_admin:
        yield database_and_admin


@pytest.mark.skipif(gunicorn is None, reason='gunicorn not installed in this cell')
@pytest.mark.skipif(django.VERSION < (1, 7), reason='testprojects/modern needs Django 1.7+')
def test_gunicorn_preforked_workers_each_get_their_own_bounded_pool(demo_database):
    settings_dict, admin = demo_database
    env = project_env(settings_dict, MAX_CONNS)
    migrate(sys.executable, env)
    port = free_port()
    server = Background(gunicorn_command(sys.executable) + [
        '--preload', '-w', str(WORKERS), '--threads', '1', '--timeout', '30',
        '-b', '127.0.0.1:%d' % port, 'demoproject.wsgi:application'], env)
    try:
        assert wait_for_port(port, server.process), 'gunicorn did not start'
        outcome = drive('http://127.0.0.1:%d' % port, ['/items/'], REQUESTS, CLIENTS, admin,
                        settings_dict['NAME'])
    finally:
        server.stop()
    log = server.output()
    print('\ngunicorn --preload -w %d: %s (bound %d)' % (
        WORKERS, outcome.summary(), WORKERS * MAX_CONNS))
    assert outcome.failures == [], (outcome.failures[:3], log[-3000:])
    assert outcome.statuses == [200] * REQUESTS
    assert len(outcome.backend_pids) >= 2
    assert 1 <= outcome.peak_sessions <= WORKERS * MAX_CONNS
    for sign in BAD_SIGNS:
        assert sign not in log, log[-3000:]
