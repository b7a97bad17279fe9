"""The registry: one pool per key, replaced when an alias' key changes, one MAX_CONNS per alias."""
from __future__ import absolute_import, division, print_function

import logging
import threading
import time

import pytest

from dbpool import registry, stats
from dbpool.errors import PoolTimeout
from tests.core.conftest import run_sql


def key_for(label, **params):
    return (label, tuple(sorted(params.items())), ('UTC',))


def test_a_pool_being_made_may_look_up_pools_itself_without_a_deadlock(make_pool):
    # Making a pool logs and imports STATS_CALLBACK: a logging handler or an
    # import that uses the database reaches the registry again.
    made = []

    def create():
        if not made:
            made.append('outer')
            registry.get_pool(key_for('reentrant', dbname='other'), 'reentrant-other',
                              make_pool)
        return make_pool()

    result = []
    thread = threading.Thread(
        target=lambda: result.append(registry.get_pool(key_for('reentrant'), 'reentrant',
                                                       create)))
    thread.daemon = True
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), 'get_pool deadlocked on its own lock'
    assert result and not result[0].closed


def test_a_replaced_pool_keeps_counting_its_checked_out_connections_against_max_conns(
        make_pool, caplog):
    old = registry.get_pool(key_for('bound', application_name='a'), 'bound',
                            lambda: make_pool(MAX_CONNS=2))
    held = [old.checkout(), old.checkout()]
    with caplog.at_level(logging.INFO, logger='dbpool'):
        new = registry.get_pool(key_for('bound', application_name='b'), 'bound',
                                lambda: make_pool(MAX_CONNS=2))
    assert old.closed and new is not old
    assert 'settings of bound changed (application_name)' in caplog.text
    with pytest.raises(PoolTimeout) as raised:
        new.checkout(timeout=0.2)
    assert '2 still out from the pool it replaced' in str(raised.value)
    assert new.stats()[stats.CONNECTIONS_RETIRING] == 2

    got = []
    waiter = threading.Thread(target=lambda: got.append(new.checkout(timeout=5)))
    waiter.start()
    time.sleep(0.1)
    old.checkin(held.pop())  # closed there, and its slot goes to the new pool's waiter
    waiter.join(5)
    assert len(got) == 1
    assert run_sql(got[0].connection, 'SELECT 1') == 1
    assert old.stats()['discarded_' + stats.DISCARD_RETIRED] == 1
    old.checkin(held.pop())
    assert new.stats()[stats.CONNECTIONS_RETIRING] == 0
    new.checkin(got[0])


def test_a_key_that_keeps_changing_is_warned_about_with_the_fields_that_changed(
        make_pool, caplog):
    with caplog.at_level(logging.INFO, logger='dbpool'):
        for number in range(registry.CHURN_REPLACEMENTS + 1):
            registry.get_pool(key_for('churn', cursor_factory='class-%d' % number,
                                      password='s3cr3t-%d' % number),
                              'churn', make_pool)
    warnings = [record.getMessage() for record in caplog.records
                if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert 'keeps changing (cursor_factory, password)' in warnings[0]
    assert 's3cr3t' not in caplog.text and 'class-' not in caplog.text


def test_a_key_that_changes_at_every_checkout_under_16_threads_stays_within_max_conns(
        make_pool, admin, app_name, monkeypatch):
    from tests.support import record_closed_sessions, run_threads_and_watch
    counter = [0]
    lock = threading.Lock()

    def next_key():
        with lock:
            counter[0] += 1
            return key_for('every', n=counter[0])

    def work():
        for _ in range(10):
            # As the Django glue does: a pool closed under the checkout is
            # looked up again, until POOL_TIMEOUT; a waiter in a replaced
            # pool needs that.
            deadline = time.time() + 30
            while True:
                pool = registry.get_pool(next_key(), 'every', lambda: make_pool(MAX_CONNS=4))
                try:
                    entry = pool.checkout(timeout=max(0.0, deadline - time.time()))
                    break
                except registry_errors.PoolClosed:
                    if time.time() > deadline:
                        raise
            try:
                run_sql(entry.connection, 'SELECT pg_sleep(0.005)')
            finally:
                pool.checkin(entry)

    from dbpool import errors as registry_errors
    peak, errors = run_threads_and_watch(admin, app_name, work, threads=16,
                                         closed=record_closed_sessions(monkeypatch))
    assert errors == []
    assert 1 <= peak <= 4


CHILD_AT_EXIT = r'''
import atexit, json, os, sys
sys.path.insert(0, os.getcwd())
# Registered before dbpool is imported, so it runs after dbpool's own
# at-exit handler (atexit runs the last registered first).
atexit.register(lambda: sys.stdout.write(
    'closed=%s open=%d\n' % (pool.closed, pool.stats()['connections_open'])))
from dbpool import registry
from tests.core.conftest import PoolFactory
from tests.support import available_drivers
factory = PoolFactory(available_drivers()[0], 'dbpool-at-exit',
                      settings_dict=json.loads(os.environ['DBPOOL_TEST_SETTINGS']))
pool = registry.get_pool(('at-exit',), 'at-exit', factory)
pool.checkin(pool.checkout())
'''


def test_the_pools_of_a_process_close_their_idle_connections_at_exit(admin):
    import json
    import os
    import subprocess
    import sys
    from tests.support import database, wait_until
    env = dict(os.environ, DBPOOL_TEST_SETTINGS=json.dumps(database()))
    output = subprocess.check_output([sys.executable, '-c', CHILD_AT_EXIT], env=env,
                                     cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                                         os.path.abspath(__file__)))))
    assert output.decode('ascii').strip() == 'closed=True open=0'
    assert wait_until(lambda: admin.backend_pids('dbpool-at-exit') == [])
