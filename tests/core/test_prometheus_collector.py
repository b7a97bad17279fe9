"""dbpool.prometheus_collector, scraped from a real /metrics endpoint over loopback.

prometheus_client is a tox dep of the cells whose DBPOOL_REQUIRE names it
(there its absence fails); elsewhere these skip.
"""
from __future__ import absolute_import, division, print_function

import threading
import time

import pytest

from dbpool import registry, stats
from dbpool.errors import PoolTimeout
from tests.core.optional import require
from tests.support import wait_until


class Endpoint(object):
    """A /metrics HTTP server on 127.0.0.1 with only our collector, and its parsed samples."""

    def __init__(self):
        self.client = require('prometheus_client', 'prometheus_client')
        self.parser = require('prometheus_client.parser', 'prometheus_client')
        self.collector_module = require('dbpool.prometheus_collector', 'prometheus_client')
        self.registry = self.client.CollectorRegistry()
        self.collector = self.collector_module.register(registry=self.registry)
        self.server, self.thread = self.client.start_http_server(0, addr='127.0.0.1',
                                                                 registry=self.registry)
        self.url = 'http://127.0.0.1:%d/metrics' % self.server.server_port

    def scrape(self):
        """{family name: family} from one GET of /metrics."""
        from urllib.request import urlopen
        response = urlopen(self.url, timeout=10)
        try:
            assert response.status == 200
            text = response.read().decode('utf-8')
        finally:
            response.close()
        return dict((family.name, family)
                    for family in self.parser.text_string_to_metric_families(text))

    def sample(self, sample_name, alias, families=None, **labels):
        """The value of one sample of the pool labelled ``alias``, or None."""
        families = families if families is not None else self.scrape()
        for family in families.values():
            for sample in family.samples:
                if (sample.name == sample_name and sample.labels.get('alias') == alias
                        and all(sample.labels.get(key) == value
                                for key, value in labels.items())):
                    return sample.value
        return None

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def endpoint():
    made = Endpoint()
    yield made
    made.close()



def test_connections_by_state_follow_checkouts_and_checkins(endpoint, registered):
    pool = registered(MAX_CONNS=3)
    alias = pool.label
    assert endpoint.sample('dbpool_connections', alias, state='used') == 0
    first, second = pool.checkout(), pool.checkout()
    assert endpoint.sample('dbpool_connections', alias, state='used') == 2
    assert endpoint.sample('dbpool_connections', alias, state='idle') == 0
    pool.checkin(first)
    pool.checkin(second)
    families = endpoint.scrape()
    assert endpoint.sample('dbpool_connections', alias, families, state='used') == 0
    assert endpoint.sample('dbpool_connections', alias, families, state='idle') == 2
    assert endpoint.sample('dbpool_connections_max', alias, families) == 3
    assert endpoint.sample('dbpool_checkouts_total', alias, families) == 2
    assert endpoint.sample('dbpool_connections_created_total', alias, families) == 2
    assert families['dbpool_checkouts'].type == 'counter'
    assert families['dbpool_connections'].type == 'gauge'


def test_timeouts_and_discards_are_counted_totals(endpoint, registered):
    pool = registered(MAX_CONNS=1, POOL_TIMEOUT=0.1)
    held = pool.checkout()
    with pytest.raises(PoolTimeout):
        pool.checkout()
    pool.discard(held)
    families = endpoint.scrape()
    assert endpoint.sample('dbpool_checkout_timeouts_total', pool.label, families) == 1
    assert endpoint.sample('dbpool_discarded_total', pool.label, families, reason='broken') == 1
    assert endpoint.sample('dbpool_discarded_total', pool.label, families, reason='idle') == 0


def test_waiting_checkouts_are_a_gauge(endpoint, registered):
    pool = registered(MAX_CONNS=1)
    held = pool.checkout()
    got = []
    waiter = threading.Thread(target=lambda: got.append(pool.checkout()))
    waiter.start()
    assert wait_until(lambda: pool.stats()[stats.WAITING] == 1)
    assert endpoint.sample('dbpool_checkouts_waiting', pool.label) == 1
    pool.checkin(held)
    waiter.join(10)
    pool.checkin(got[0])
    assert endpoint.sample('dbpool_checkouts_waiting', pool.label) == 0


def test_wait_and_use_are_histograms_in_seconds(endpoint, registered):
    pool = registered(MAX_CONNS=1)
    entry = pool.checkout()
    time.sleep(0.06)
    pool.checkin(entry)
    families = endpoint.scrape()
    assert families['dbpool_use_seconds'].type == 'histogram'
    assert endpoint.sample('dbpool_use_seconds_count', pool.label, families) == 1
    assert 0.06 <= endpoint.sample('dbpool_use_seconds_sum', pool.label, families) < 10
    assert endpoint.sample('dbpool_use_seconds_bucket', pool.label, families, le='0.05') == 0
    assert endpoint.sample('dbpool_use_seconds_bucket', pool.label, families, le='+Inf') == 1
    assert endpoint.sample('dbpool_wait_seconds_bucket', pool.label, families, le='0.0') == 1
    assert endpoint.sample('dbpool_wait_seconds_sum', pool.label, families) == 0
    assert endpoint.sample('dbpool_connect_seconds_count', pool.label, families) == 1


def test_a_closed_pool_is_no_longer_reported(endpoint, registered):
    pool = registered(MAX_CONNS=1)
    pool.checkin(pool.checkout())
    assert endpoint.sample('dbpool_connections', pool.label, state='idle') == 1
    registry.close_pools(lambda candidate: candidate is pool)
    assert endpoint.sample('dbpool_connections', pool.label, state='idle') is None
