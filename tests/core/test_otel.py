"""dbpool.otel: the connection pool conventions, read by the OpenTelemetry SDK's in-memory reader.

opentelemetry-api and -sdk are tox deps of the cells whose DBPOOL_REQUIRE
names opentelemetry (there their absence fails); elsewhere these skip.
"""
from __future__ import absolute_import, division, print_function

import threading
import time

import pytest

from dbpool import registry, stats
from dbpool.errors import PoolTimeout
from tests.core.optional import require
from tests.support import wait_until

POOL_NAME = 'db.client.connection.pool.name'


class Reader(object):
    """An SDK meter provider with an in-memory reader, and what it read by name."""

    def __init__(self):
        sdk_metrics = require('opentelemetry.sdk.metrics', 'opentelemetry')
        export = require('opentelemetry.sdk.metrics.export', 'opentelemetry')
        self.otel = require('dbpool.otel', 'opentelemetry')
        self.reader = export.InMemoryMetricReader()
        self.provider = sdk_metrics.MeterProvider(metric_readers=[self.reader])

    def metrics(self):
        """{name: metric} of one collection."""
        found = {}
        data = self.reader.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    found[metric.name] = metric
        return found

    def points(self, name, pool_label, collected=None):
        """The data points of ``name`` for the pool labelled ``pool_label``."""
        metric = (collected if collected is not None else self.metrics()).get(name)
        if metric is None:
            return []
        return [point for point in metric.data.data_points
                if point.attributes.get(POOL_NAME) == pool_label]

    def value(self, name, pool_label, **attributes):
        """The one value of ``name`` for that pool (and those attributes), or None."""
        for point in self.points(name, pool_label):
            if all(point.attributes.get(key.replace('_', '.')) == wanted
                   for key, wanted in attributes.items()):
                return point.value
        return None


@pytest.fixture
def reader():
    made = Reader()
    made.otel.instrument(meter_provider=made.provider)
    yield made
    made.otel.uninstrument()
    made.provider.shutdown()



def state(reader, pool, which):
    return reader.value('db.client.connection.count', pool.label,
                        db_client_connection_state=which)


def test_connections_are_counted_by_state_with_the_limits(reader, registered):
    pool = registered(MAX_CONNS=3, MIN_CONNS=0)
    first, second = pool.checkout(), pool.checkout()
    pool.checkin(first)
    assert state(reader, pool, 'used') == 1
    assert state(reader, pool, 'idle') == 1
    pool.checkin(second)
    assert state(reader, pool, 'used') == 0
    assert state(reader, pool, 'idle') == 2
    assert reader.value('db.client.connection.max', pool.label) == 3
    assert reader.value('db.client.connection.idle.max', pool.label) == 3
    assert reader.value('db.client.connection.idle.min', pool.label) == 0


def test_pending_requests_are_the_threads_waiting(reader, registered):
    pool = registered(MAX_CONNS=1)
    held = pool.checkout()
    got = []
    waiters = [threading.Thread(target=lambda: got.append(pool.checkout())) for _ in range(2)]
    for waiter in waiters:
        waiter.start()
    assert wait_until(lambda: pool.stats()[stats.WAITING] == 2)
    assert reader.value('db.client.connection.pending_requests', pool.label) == 2
    pool.checkin(held)
    assert wait_until(lambda: len(got) == 1)
    assert reader.value('db.client.connection.pending_requests', pool.label) == 1
    pool.checkin(got[0])
    for waiter in waiters:
        waiter.join(10)
    pool.checkin(got[1])
    assert reader.value('db.client.connection.pending_requests', pool.label) == 0


def test_a_pool_timeout_is_counted(reader, registered):
    pool = registered(MAX_CONNS=1, POOL_TIMEOUT=0.1)
    held = pool.checkout()
    assert reader.value('db.client.connection.timeouts', pool.label) is None
    for _ in range(2):
        with pytest.raises(PoolTimeout):
            pool.checkout()
    pool.checkin(held)
    assert reader.value('db.client.connection.timeouts', pool.label) == 2


def test_create_wait_and_use_times_are_recorded_in_seconds(reader, registered):
    pool = registered(MAX_CONNS=1)
    held = pool.checkout()
    got = []
    waiter = threading.Thread(target=lambda: got.append(pool.checkout()))
    waiter.start()
    assert wait_until(lambda: pool.stats()[stats.WAITING] == 1)
    time.sleep(0.2)
    pool.checkin(held)  # used 200 ms or more; the waiter waited as long
    waiter.join(10)
    pool.checkin(got[0])
    collected = reader.metrics()
    for name in ('db.client.connection.create_time', 'db.client.connection.wait_time',
                 'db.client.connection.use_time'):
        assert collected[name].unit == 's'
    [create] = reader.points('db.client.connection.create_time', pool.label, collected)
    [wait] = reader.points('db.client.connection.wait_time', pool.label, collected)
    [use] = reader.points('db.client.connection.use_time', pool.label, collected)
    assert create.count == 1
    assert 0 < create.sum < 10
    assert wait.count == 2  # one at once (0 s), one after the holder's 200 ms
    assert wait.min == 0
    assert 0.2 <= wait.max < 10
    assert use.count == 2
    assert 0.2 <= use.max < 10
    # The buckets are the core's, in seconds, not the SDK's millisecond defaults.
    assert list(use.explicit_bounds) == [b / 1000.0 for b in stats.HISTOGRAM_BOUNDS_MS]


def test_a_pool_made_after_instrumenting_is_reported_and_a_closed_one_is_not(reader,
                                                                             registered):
    pool = registered(MAX_CONNS=2)
    pool.checkin(pool.checkout())
    assert state(reader, pool, 'idle') == 1
    registry.close_pools(lambda candidate: candidate is pool)
    assert state(reader, pool, 'idle') is None


def test_uninstrument_stops_the_reports(reader, registered):
    pool = registered(MAX_CONNS=2)
    pool.checkin(pool.checkout())
    assert len(reader.points('db.client.connection.use_time', pool.label)) == 1
    reader.otel.uninstrument()
    assert state(reader, pool, 'idle') is None
    pool.checkin(pool.checkout())
    [use] = reader.points('db.client.connection.use_time', pool.label)
    assert use.count == 1  # the second checkout was not heard
    assert stats.LISTENERS == ()


def test_instrumenting_again_replaces_the_first(reader, registered):
    second = Reader()
    try:
        second.otel.instrument(meter_provider=second.provider)
        pool = registered(MAX_CONNS=1)
        pool.checkin(pool.checkout())
        assert len(stats.LISTENERS) == 1
        assert reader.points('db.client.connection.use_time', pool.label) == []
        assert [p.count for p in second.points('db.client.connection.use_time',
                                               pool.label)] == [1]
    finally:
        second.provider.shutdown()
