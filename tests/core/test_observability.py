"""What the pool tells the outside: log levels, and statistics handed to a callback."""
from __future__ import absolute_import, division, print_function

import logging
import time

import pytest

from dbpool.errors import PoolTimeout


def levels(caplog, text):
    """The level names of the dbpool records whose message contains ``text``."""
    return [record.levelname for record in caplog.records
            if record.name == 'dbpool' and text in record.getMessage()]


def test_opening_and_routine_closing_are_info(make_pool, caplog):
    caplog.set_level(logging.DEBUG, logger='dbpool')
    pool = make_pool(MAX_CONNS=1, MAX_LIFETIME=0.01)
    entry = pool.checkout()
    time.sleep(0.05)
    pool.checkin(entry)  # returned past its lifetime: closed
    assert levels(caplog, ' opened ') == ['INFO']
    assert levels(caplog, '(lifetime)') == ['INFO']


def test_a_broken_connection_is_a_warning(make_pool, admin, app_name, caplog):
    caplog.set_level(logging.DEBUG, logger='dbpool')
    pool = make_pool(MAX_CONNS=1, TEST_ON_BORROW=True)
    pool.checkin(pool.checkout())
    admin.terminate(app_name)
    pool.checkin(pool.checkout())  # the ping fails; a new connection replaces it
    assert levels(caplog, '(broken)') == ['WARNING']


def test_exhaustion_is_a_warning(make_pool, caplog):
    caplog.set_level(logging.DEBUG, logger='dbpool')
    pool = make_pool(MAX_CONNS=1, POOL_TIMEOUT=0.1)
    held = pool.checkout()
    with pytest.raises(PoolTimeout):
        pool.checkout()
    pool.checkin(held)
    assert levels(caplog, 'waited') == ['WARNING']


def test_a_failed_connect_is_a_warning_once(make_pool, driver, caplog):
    caplog.set_level(logging.DEBUG, logger='dbpool')
    pool = make_pool(MAX_CONNS=1, MIN_CONNS=1)

    def refuse():
        raise driver.OperationalError('connection refused (test)')
    pool._connect = refuse
    with pytest.raises(driver.OperationalError):
        pool.checkout()
    pool.run_housekeeping()  # the MIN_CONNS refill fails too
    assert levels(caplog, 'could not open a connection') == ['WARNING', 'WARNING']


def test_the_stats_callback_gets_the_label_and_a_snapshot_each_interval(make_pool):
    calls = []
    pool = make_pool(MAX_CONNS=2, STATS_CALLBACK=lambda alias, snapshot: calls.append(
        (alias, snapshot)), STATS_INTERVAL=0.001)
    pool.checkin(pool.checkout())
    pool.run_housekeeping()  # the first round only starts the clock
    assert calls == []
    time.sleep(0.01)
    pool.run_housekeeping()
    assert len(calls) == 1
    alias, snapshot = calls[-1]
    assert alias == 'test'
    assert snapshot['checkouts'] == 1
    assert snapshot['connections_idle'] == 1


def test_a_stats_callback_that_raises_is_logged_and_the_pool_goes_on(make_pool, caplog):
    caplog.set_level(logging.DEBUG, logger='dbpool')

    def broken(alias, snapshot):
        raise RuntimeError('metrics server away')
    pool = make_pool(MAX_CONNS=1, STATS_CALLBACK=broken, STATS_INTERVAL=0.001)
    for _ in range(3):
        pool.run_housekeeping()
        time.sleep(0.01)
    pool.checkin(pool.checkout())
    assert 'ERROR' in levels(caplog, 'STATS_CALLBACK')


def test_no_callback_no_export(make_pool):
    pool = make_pool(MAX_CONNS=1)
    assert pool.options.stats_callback is None
    pool.run_housekeeping()
