"""A private server of its own, restarted and stopped under the pool."""
from __future__ import absolute_import, division, print_function

import time

import pytest

from dbpool import stats
from dbpool.testing.pgcluster import PgCluster
from tests.core.conftest import PoolFactory, backend_pid, run_sql


@pytest.fixture(scope='module')
def cluster():
    # Never the shared server: these tests take it down.
    cluster = PgCluster().start()
    yield cluster
    cluster.destroy()


@pytest.fixture
def make_private_pool(cluster, driver, app_name):
    factory = PoolFactory(driver, app_name, cluster.settings())
    yield factory
    factory.close()


def test_a_server_restart_is_survived_without_an_error(cluster, make_private_pool):
    pool = make_private_pool(MAX_CONNS=2, TEST_AFTER_IDLE=None)
    entries = [pool.checkout(), pool.checkout()]
    old = set(backend_pid(entry.connection) for entry in entries)
    for entry in entries:
        pool.checkin(entry)
    cluster.restart(mode='fast')
    entries = [pool.checkout(), pool.checkout()]
    new = set(backend_pid(entry.connection) for entry in entries)
    for entry in entries:
        pool.checkin(entry)
    assert not old & new
    assert pool.stats()['discarded_' + stats.DISCARD_BROKEN] == 2


def test_while_the_server_is_down_checkout_fails_fast_then_recovers(
        cluster, make_private_pool, driver):
    pool = make_private_pool(MAX_CONNS=2, MIN_CONNS=2)
    pool.run_housekeeping()
    assert pool.stats()[stats.CONNECTIONS_IDLE] == 2
    cluster.stop(mode='fast')
    try:
        started = time.time()
        with pytest.raises(driver.OperationalError):
            pool.checkout()
        assert time.time() - started < 5
        # Nothing is lost: the failed attempts gave their slots back.
        assert pool.stats()[stats.CONNECTIONS_OPENING] == 0
        pool.run_housekeeping()  # refilling fails quietly while it is down
    finally:
        cluster.start()
    entry = pool.checkout()
    assert run_sql(entry.connection, 'SELECT 1') == 1
    pool.checkin(entry)
    pool.run_housekeeping()
    assert pool.stats()[stats.CONNECTIONS_OPEN] == 2
