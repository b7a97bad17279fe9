"""Wait, use and connect times as distributions in the pool's statistics, and the listener hook."""
from __future__ import absolute_import, division, print_function

import json
import logging
import threading
import time

import pytest

from dbpool import stats
from dbpool.errors import PoolTimeout
from tests.support import wait_until


def at_most(snapshot, key, bound_ms):
    """How many values of the histogram ``key`` were at most ``bound_ms``."""
    return snapshot[key][stats.HISTOGRAM_BOUNDS_MS.index(bound_ms)]


def wait_for_a_connection_held(pool, seconds):
    """One checkout that waits while another holds the only connection ``seconds`` long."""
    held = pool.checkout()
    got = []
    waiter = threading.Thread(target=lambda: got.append(pool.checkout()))
    waiter.start()
    assert wait_until(lambda: pool.stats()[stats.WAITING] == 1)
    time.sleep(seconds)
    pool.checkin(held)
    waiter.join(10)
    pool.checkin(got[0])


@pytest.fixture
def events():
    """The (pool, event, seconds) calls a listener gets while the test runs."""
    calls = []

    def listener(pool, event, seconds):
        calls.append((pool, event, seconds))
    stats.add_listener(listener)
    yield calls
    stats.remove_listener(listener)


def test_a_checkout_that_did_not_wait_counts_as_a_wait_of_zero(make_pool):
    pool = make_pool(MAX_CONNS=2)
    pool.checkin(pool.checkout())
    pool.checkin(pool.checkout())  # the idle one this time
    snapshot = pool.stats()
    assert snapshot[stats.WAIT_MS_COUNT] == 2
    assert at_most(snapshot, stats.WAIT_MS_HISTOGRAM, 0) == 2
    assert snapshot[stats.WAIT_MS_TOTAL] == 0


def test_a_checkout_that_waited_is_counted_in_the_bucket_of_its_wait(make_pool):
    pool = make_pool(MAX_CONNS=1)
    wait_for_a_connection_held(pool, 0.3)
    snapshot = pool.stats()
    assert snapshot[stats.WAIT_MS_COUNT] == 2  # the holder's at once, the waiter's
    assert at_most(snapshot, stats.WAIT_MS_HISTOGRAM, 0) == 1
    assert at_most(snapshot, stats.WAIT_MS_HISTOGRAM, 250) == 1  # it waited 300 ms or more
    assert at_most(snapshot, stats.WAIT_MS_HISTOGRAM, 10000) == 2
    assert snapshot[stats.WAIT_MS_HISTOGRAM][-1] == 2
    assert snapshot[stats.WAIT_MS_TOTAL] >= 300


def test_a_checkout_that_timed_out_is_not_counted_as_a_wait(make_pool):
    pool = make_pool(MAX_CONNS=1, POOL_TIMEOUT=0.1)
    held = pool.checkout()
    with pytest.raises(PoolTimeout):
        pool.checkout()
    pool.checkin(held)
    snapshot = pool.stats()
    assert snapshot[stats.CHECKOUT_TIMEOUTS] == 1
    assert snapshot[stats.WAIT_MS_COUNT] == 1


def test_use_time_runs_from_checkout_to_checkin(make_pool):
    pool = make_pool(MAX_CONNS=1)
    entry = pool.checkout()
    time.sleep(0.06)
    pool.checkin(entry)
    snapshot = pool.stats()
    assert snapshot[stats.USE_MS_COUNT] == 1
    assert at_most(snapshot, stats.USE_MS_HISTOGRAM, 50) == 0
    assert at_most(snapshot, stats.USE_MS_HISTOGRAM, 10000) == 1
    assert snapshot[stats.USE_MS_TOTAL] >= 60
    assert snapshot[stats.USE_MS_MAX] == snapshot[stats.USE_MS_TOTAL]


def test_a_discarded_connection_counts_its_use_and_a_bad_idle_one_does_not(make_pool, admin,
                                                                            app_name):
    pool = make_pool(MAX_CONNS=1, TEST_ON_BORROW=True)
    pool.discard(pool.checkout())
    pool.checkin(pool.checkout())
    admin.terminate(app_name)
    pool.checkin(pool.checkout())  # the idle one fails its ping and is replaced
    snapshot = pool.stats()
    assert snapshot['discarded_broken'] == 2
    assert snapshot[stats.USE_MS_COUNT] == 3  # one per borrower, none for the dead idle one


def test_each_new_connection_counts_its_connect_time(make_pool):
    pool = make_pool(MAX_CONNS=2)
    first, second = pool.checkout(), pool.checkout()
    pool.checkin(first)
    pool.checkin(second)
    snapshot = pool.stats()
    assert snapshot[stats.CONNECT_MS_COUNT] == snapshot[stats.CONNECTIONS_CREATED] == 2
    assert at_most(snapshot, stats.CONNECT_MS_HISTOGRAM, 0) == 0  # a connect takes time
    assert snapshot[stats.CONNECT_MS_TOTAL] > 0


def test_pop_stats_zeroes_the_histograms_like_the_counters(make_pool):
    pool = make_pool(MAX_CONNS=1)
    pool.checkin(pool.checkout())
    popped = pool.pop_stats()
    assert popped[stats.WAIT_MS_COUNT] == popped[stats.USE_MS_COUNT] == 1
    after = pool.stats()
    for key, count_key in stats.DISTRIBUTIONS:
        assert after[count_key] == 0
        assert set(after[key]) == set([0])
    assert after[stats.USE_MS_TOTAL] == 0


def test_the_snapshot_with_histograms_is_still_json(make_pool):
    pool = make_pool(MAX_CONNS=1)
    pool.checkin(pool.checkout())
    decoded = json.loads(json.dumps(pool.stats()))
    assert decoded[stats.HISTOGRAM_BOUNDS] == list(stats.HISTOGRAM_BOUNDS_MS)
    assert len(decoded[stats.USE_MS_HISTOGRAM]) == len(stats.HISTOGRAM_BOUNDS_MS) + 1
    assert decoded[stats.CHECKOUTS] == 1


def test_percentiles_are_estimated_from_the_buckets(make_pool):
    pool = make_pool(MAX_CONNS=1)
    for _ in range(8):
        pool.checkin(pool.checkout())
    wait_for_a_connection_held(pool, 0.3)  # one more at once, and one 300 ms or more
    histogram = pool.stats()[stats.WAIT_MS_HISTOGRAM]
    assert stats.percentile_ms(histogram, 0.5) == 0.0
    assert stats.percentile_ms(histogram, 0.9) == 0.0  # 9 of 10 did not wait
    assert 250 < stats.percentile_ms(histogram, 0.99) <= 10000


def test_a_percentile_of_nothing_is_none_and_one_past_the_last_bound_is_that_bound():
    empty = stats.cumulative([0] * (len(stats.HISTOGRAM_BOUNDS_MS) + 1))
    assert stats.percentile_ms(empty, 0.5) is None
    beyond = [0] * len(stats.HISTOGRAM_BOUNDS_MS) + [3]  # three values above 10 s
    assert stats.percentile_ms(stats.cumulative(beyond), 0.5) == stats.HISTOGRAM_BOUNDS_MS[-1]


def test_listeners_hear_of_waits_uses_connects_and_timeouts(make_pool, events):
    pool = make_pool(MAX_CONNS=1, POOL_TIMEOUT=0.1)
    entry = pool.checkout()
    with pytest.raises(PoolTimeout):
        pool.checkout()
    time.sleep(0.02)
    pool.checkin(entry)
    names = [event for _, event, _ in events]
    assert names == [stats.EVENT_CONNECT, stats.EVENT_WAIT, stats.EVENT_TIMEOUT, stats.EVENT_USE]
    seconds = dict((event, value) for _, event, value in events)
    assert seconds[stats.EVENT_WAIT] == 0.0
    assert seconds[stats.EVENT_TIMEOUT] >= 0.09  # a timed wait may end a hair early
    assert seconds[stats.EVENT_USE] >= 0.1
    assert seconds[stats.EVENT_CONNECT] > 0
    assert set(source for source, _, _ in events) == set([pool])


def test_a_listener_runs_outside_the_pool_lock_so_it_may_read_the_stats(make_pool):
    pool = make_pool(MAX_CONNS=1)
    seen = []

    def reads_stats(source, event, seconds):
        seen.append(source.stats()[stats.CHECKOUTS])
    stats.add_listener(reads_stats)
    try:
        cycle = threading.Thread(target=lambda: pool.checkin(pool.checkout()))
        cycle.daemon = True  # left behind if the lock were held: the test fails, not hangs
        cycle.start()
        cycle.join(10)
        assert not cycle.is_alive()
    finally:
        stats.remove_listener(reads_stats)
    assert seen == [1, 1, 1]  # connect, wait, use


def test_a_listener_that_raises_is_logged_and_the_pool_goes_on(make_pool, events, caplog):
    caplog.set_level(logging.DEBUG, logger='dbpool')

    def broken(pool, event, seconds):
        raise RuntimeError('exporter away')
    stats.add_listener(broken)
    try:
        pool = make_pool(MAX_CONNS=1)
        pool.checkin(pool.checkout())
    finally:
        stats.remove_listener(broken)
    assert pool.stats()[stats.CONNECTIONS_IDLE] == 1
    assert len(events) == 3  # the other listener still heard everything
    failures = [record for record in caplog.records if 'listener' in record.getMessage()]
    assert [record.levelname for record in failures] == ['ERROR'] * 3


def test_a_removed_listener_hears_nothing_more(make_pool, events):
    pool = make_pool(MAX_CONNS=1)
    pool.checkin(pool.checkout())
    heard = len(events)
    stats.remove_listener(stats.LISTENERS[-1])
    pool.checkin(pool.checkout())
    assert heard == 3
    assert len(events) == heard


def test_a_listener_added_as_a_bound_method_can_be_removed(make_pool):
    class Exporter(object):
        heard = 0

        def on_event(self, pool, event, seconds):
            self.heard += 1
    exporter = Exporter()
    stats.add_listener(exporter.on_event)
    stats.remove_listener(exporter.on_event)  # another bound-method object, the same method
    pool = make_pool(MAX_CONNS=1)
    pool.checkin(pool.checkout())
    assert exporter.heard == 0
    assert stats.LISTENERS == ()
