"""OPTIONS['HEALTH_CHECK']: the user's check, run where the pool would ping."""
from __future__ import absolute_import, division, print_function

import logging
import time

import pytest

from dbpool import stats
from dbpool.options import parse_pool_options
from tests.core.conftest import backend_pid, run_sql
from tests.support import wait_until


class RecordingCheck(object):
    """A HEALTH_CHECK that runs a query and answers from a script of verdicts."""

    def __init__(self, *verdicts):
        self.verdicts = list(verdicts)
        self.pids = []

    def __call__(self, connection):
        self.pids.append(run_sql(connection, 'SELECT pg_backend_pid()'))
        verdict = self.verdicts.pop(0) if self.verdicts else True
        if isinstance(verdict, Exception):
            raise verdict
        return verdict

    def __repr__(self):
        return '<RecordingCheck>'


def test_the_health_check_runs_instead_of_the_ping_at_each_checkout_with_test_on_borrow(
        make_pool):
    check = RecordingCheck()
    pool = make_pool(TEST_ON_BORROW=True, HEALTH_CHECK=check,
                     TEST_ON_BORROW_QUERY='SELECT no_such_function()')
    entry = pool.checkout()  # a new connection: nothing to check
    pid = backend_pid(entry.connection)
    pool.checkin(entry)
    for _ in range(2):
        entry = pool.checkout()
        assert backend_pid(entry.connection) == pid
        pool.checkin(entry)
    assert check.pids == [pid, pid]
    snapshot = pool.stats()
    assert snapshot[stats.HEALTH_CHECKS] == 2
    assert snapshot[stats.HEALTH_CHECK_FAILURES] == 0


def test_a_connection_the_health_check_rejects_is_closed_and_the_checkout_gets_a_fresh_one(
        make_pool, admin, app_name):
    check = RecordingCheck(False)
    pool = make_pool(TEST_ON_BORROW=True, HEALTH_CHECK=check)
    entry = pool.checkout()
    rejected = backend_pid(entry.connection)
    pool.checkin(entry)
    entry = pool.checkout()
    fresh = backend_pid(entry.connection)
    pool.checkin(entry)
    assert check.pids == [rejected]
    assert fresh != rejected
    snapshot = pool.stats()
    assert snapshot[stats.HEALTH_CHECK_FAILURES] == 1
    assert snapshot['discarded_' + stats.DISCARD_BROKEN] == 1
    assert wait_until(lambda: admin.backend_pids(app_name) == [fresh])


def test_an_error_in_the_health_check_is_logged_with_the_key_and_never_reaches_the_borrower(
        make_pool, caplog):
    check = RecordingCheck(RuntimeError('the replica is 30 s behind'))
    pool = make_pool(TEST_ON_BORROW=True, HEALTH_CHECK=check)
    entry = pool.checkout()
    first = backend_pid(entry.connection)
    pool.checkin(entry)
    with caplog.at_level(logging.WARNING, logger='dbpool'):
        entry = pool.checkout()
    assert backend_pid(entry.connection) != first
    assert run_sql(entry.connection, 'SELECT 1') == 1
    pool.checkin(entry)
    messages = [record.getMessage() for record in caplog.records]
    assert any('HEALTH_CHECK <RecordingCheck> raised' in message
               and 'RuntimeError: the replica is 30 s behind' in message
               for message in messages), messages
    assert pool.stats()[stats.HEALTH_CHECK_FAILURES] == 1


def test_a_transaction_the_health_check_leaves_open_is_rolled_back_before_the_checkout(
        make_pool):
    def check_in_a_transaction(connection):
        connection.autocommit = False
        return run_sql(connection, 'SELECT 1') == 1

    pool = make_pool(TEST_ON_BORROW=True, HEALTH_CHECK=check_in_a_transaction)
    pool.checkin(pool.checkout())
    entry = pool.checkout()
    try:
        assert entry.connection.info.transaction_status == 0  # idle: nothing left open
        assert run_sql(entry.connection, "SELECT count(*) FROM pg_stat_activity "
                                         "WHERE pid = pg_backend_pid() "
                                         "AND backend_xid IS NOT NULL") == 0
    finally:
        pool.checkin(entry)
    assert pool.stats()[stats.HEALTH_CHECK_FAILURES] == 0


def test_the_health_check_runs_only_when_a_ping_is_due_after_test_after_idle(make_pool):
    check = RecordingCheck()
    pool = make_pool(TEST_AFTER_IDLE=0.3, HEALTH_CHECK=check)
    pool.checkin(pool.checkout())
    pool.checkin(pool.checkout())  # idle for less than TEST_AFTER_IDLE
    assert check.pids == []
    time.sleep(0.4)
    pool.checkin(pool.checkout())
    assert len(check.pids) == 1


def test_a_health_check_slower_than_ping_timeout_is_cut_and_the_connection_replaced(make_pool):
    def slow(connection):
        return run_sql(connection, 'SELECT pg_sleep(5) IS NULL')

    pool = make_pool(TEST_ON_BORROW=True, HEALTH_CHECK=slow, PING_TIMEOUT=0.3)
    entry = pool.checkout()
    first = backend_pid(entry.connection)
    pool.checkin(entry)
    started = time.time()
    entry = pool.checkout()
    assert time.time() - started < 4
    assert backend_pid(entry.connection) != first
    pool.checkin(entry)
    assert pool.stats()[stats.HEALTH_CHECK_FAILURES] == 1


@pytest.mark.parametrize('value', [42, 'no_dots', True])
def test_health_check_must_be_a_callable_or_a_dotted_path(value):
    with pytest.raises(ValueError) as raised:
        parse_pool_options({'HEALTH_CHECK': value}, "DATABASES['default']['OPTIONS']")
    assert str(raised.value).startswith("HEALTH_CHECK=%r in DATABASES['default']['OPTIONS'] "
                                        'is not valid' % (value,))
    assert 'a callable taking the driver connection or its dotted path' in str(raised.value)


def test_health_check_accepts_a_dotted_path_for_the_django_layer_to_import():
    options = parse_pool_options({'HEALTH_CHECK': 'myproject.db.replica_is_fresh'}, 'the test')
    assert options.health_check == 'myproject.db.replica_is_fresh'
    assert parse_pool_options({}, 'the test').health_check is None
