"""A pool that wants a primary (target_session_attrs) and a server that is read-only.

Real servers: a primary and its streaming standby (tests.standby_pair),
one private pair for each test that promotes or fences it, one shared by the others.
"""
from __future__ import absolute_import, division, print_function

import pytest

from dbpool import health, stats
from dbpool.options import parse_pool_options, writable_target
from tests.core.conftest import PoolFactory, backend_pid, run_sql
from tests.standby_pair import make_pair
from tests.support import connect_kwargs, database


def server_port(connection):
    return run_sql(connection, 'SELECT inet_server_port()')


def sqlstate(exc):
    return getattr(exc, 'sqlstate', None) or getattr(exc, 'pgcode', None)


@pytest.fixture
def pair():
    """A pair for one test, which may promote or fence its servers."""
    pair = make_pair()
    yield pair
    pair.destroy()


@pytest.fixture(scope='module')
def unchanged_pair():
    """A pair shared by the tests that only connect to it."""
    pair = make_pair()
    yield pair
    pair.destroy()


@pytest.fixture
def pools(driver, app_name):
    """Make PoolFactory(settings_dict, **connect_extra); every pool made is closed after."""
    made = []

    def make(settings_dict, **connect_extra):
        factory = PoolFactory(driver, app_name, settings_dict, **connect_extra)
        made.append(factory)
        return factory

    yield make
    for factory in made:
        factory.close()


# -- which pools check at all --------------------------------------------------

def test_only_a_target_that_wants_writes_makes_a_pool_check_for_read_only_servers():
    assert writable_target({'target_session_attrs': 'read-write'}, {}) == 'read-write'
    assert writable_target({'target_session_attrs': 'primary'}, {}) == 'primary'
    for value in ('any', 'read-only', 'standby', 'prefer-standby', None):
        assert writable_target({'target_session_attrs': value}, {}) is None
    assert writable_target({}, {}) is None


def test_the_target_can_come_from_pgtargetsessionattrs_as_libpq_reads_it():
    assert writable_target({}, {'PGTARGETSESSIONATTRS': 'read-write'}) == 'read-write'
    # OPTIONS win, as the keyword wins over the variable in libpq.
    assert writable_target({'target_session_attrs': 'any'},
                           {'PGTARGETSESSIONATTRS': 'read-write'}) is None


def test_the_parsed_options_say_once_whether_checkouts_check(monkeypatch):
    monkeypatch.delenv('PGTARGETSESSIONATTRS', raising=False)
    parsed = parse_pool_options({'MAX_CONNS': 2, 'target_session_attrs': 'primary'}, 'the test')
    assert parsed.writable_target == 'primary'
    assert parse_pool_options({'MAX_CONNS': 2}, 'the test').writable_target is None


def test_a_closed_connection_reports_nothing_rather_than_raising(driver):
    # The end of a request reads the report of whatever Django hands back,
    # a connection closed under it included.
    connection = driver.connect(**connect_kwargs(database()))
    assert health.reports_read_only(connection) is False  # a primary
    connection.close()
    assert health.reports_read_only(connection, 'read-write') is False
    assert health.reports_read_only(connection, 'primary') is False


# -- an idle connection to a standby -------------------------------------------

@pytest.mark.parametrize('target', ['read-write', 'primary'])
def test_an_idle_connection_to_a_hot_standby_is_discarded_at_checkout_when_the_target_wants_writes(
        unchanged_pair, pools, target):
    # The pool's connect() reaches the standby (a proxy, a DNS name that
    # moved): libpq is not asked to check, the pool is.
    pool = pools(unchanged_pair.standby.settings())(target_session_attrs=target,
                                                    TEST_AFTER_IDLE=None)
    entry = pool.checkout()
    first = backend_pid(entry.connection)
    pool.checkin(entry)
    entry = pool.checkout()
    try:
        assert backend_pid(entry.connection) != first
    finally:
        pool.checkin(entry)
    snapshot = pool.stats()
    assert snapshot['discarded_' + stats.DISCARD_READ_ONLY] == 1
    assert snapshot[stats.CONNECTIONS_CREATED] == 2


def test_an_idle_connection_to_a_hot_standby_is_kept_when_no_target_wants_writes(
        unchanged_pair, pools):
    pool = pools(unchanged_pair.standby.settings())(TEST_AFTER_IDLE=None)
    entry = pool.checkout()
    first = backend_pid(entry.connection)
    pool.checkin(entry)
    entry = pool.checkout()
    try:
        assert backend_pid(entry.connection) == first
    finally:
        pool.checkin(entry)
    snapshot = pool.stats()
    assert snapshot['discarded_' + stats.DISCARD_READ_ONLY] == 0
    assert snapshot[stats.HEALTH_CHECKS] == 0


def test_a_connection_to_a_standby_promoted_while_it_was_idle_is_kept(pair, pools):
    pool = pools(pair.standby.settings())(target_session_attrs='read-write',
                                          TEST_AFTER_IDLE=None)
    entry = pool.checkout()
    first = backend_pid(entry.connection)
    pool.checkin(entry)
    pair.fail_over()  # the server it is connected to now takes writes
    entry = pool.checkout()
    try:
        # Its last report still said hot standby: one ping brings the new one.
        assert backend_pid(entry.connection) == first
        run_sql(entry.connection, 'CREATE TABLE written_after_promotion (id int)')
    finally:
        pool.checkin(entry)
    snapshot = pool.stats()
    assert snapshot['discarded_' + stats.DISCARD_READ_ONLY] == 0
    assert snapshot[stats.HEALTH_CHECKS] == 1
    assert snapshot[stats.CONNECTIONS_CREATED] == 1


# -- a primary that turns read-only while its connections live -----------------

def test_after_a_fenced_primary_refuses_a_write_the_next_checkout_reaches_the_new_primary(
        pair, pools):
    # A switchover that fences the old primary (read-only by default, by
    # reload) instead of stopping it: its sessions live on. The host list
    # names both servers; libpq and the pool both want a writable one.
    factory = pools(pair.settings(), target_session_attrs='read-write')
    pool = factory(target_session_attrs='read-write', TEST_AFTER_IDLE=None)
    old, new = pair.primary, pair.standby
    entry = pool.checkout()
    assert server_port(entry.connection) == old.port
    pool.checkin(entry)
    pair.execute('ALTER SYSTEM SET default_transaction_read_only = on')
    pair.execute('SELECT pg_reload_conf()')
    from dbpool.testing.replication import promote
    promote(new)
    # The idle session has not heard of it yet (the server tells it with its
    # next answer): its first write fails, and says so.
    entry = pool.checkout()
    try:
        with pytest.raises(Exception) as raised:
            run_sql(entry.connection, 'CREATE TABLE refused (id int)')
        assert sqlstate(raised.value) == '25006'
    finally:
        pool.checkin(entry)
    entry = pool.checkout()
    try:
        assert server_port(entry.connection) == new.port
        run_sql(entry.connection, 'CREATE TABLE accepted (id int)')
    finally:
        pool.checkin(entry)
    assert pool.stats()['discarded_' + stats.DISCARD_READ_ONLY] == 1
