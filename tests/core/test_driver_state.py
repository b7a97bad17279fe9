"""What a borrower sets on the driver connection object itself is gone for the next one.

The isolation level, read-only and deferrable flags, cursor and row
factories, type adapters, notice and notify handlers and the lists the
drivers collect notices in live on the client, where no reset query
reaches them; the pool puts them back at every checkin, whatever
RESET_ON_RETURN says. The session's random seed lives on the server but
survives DISCARD ALL; the reset sets a new one when the session may have
set it.
"""
from __future__ import absolute_import, division, print_function

import pytest

from tests.core.conftest import PoolFactory, backend_pid, run_sql

POLICIES = ['auto', 'full', 'rollback']


def lend_twice(pool, change):
    """Check out, let ``change(connection)`` alter the driver object, check in, check out again.

    Returns the second checkout's entry, after checking that it holds the
    same backend (the state was not lost with a new connection).
    """
    entry = pool.checkout()
    connection = entry.connection
    connection.autocommit = True
    pid = backend_pid(connection)
    change(connection)
    pool.checkin(entry)
    entry = pool.checkout()
    entry.connection.autocommit = True
    assert backend_pid(entry.connection) == pid
    return entry


def in_transaction(connection, sql):
    """The first column of ``sql`` run inside a transaction the driver opens itself."""
    connection.autocommit = False
    try:
        return run_sql(connection, sql)
    finally:
        connection.rollback()
        connection.autocommit = True


def set_read_only(connection):
    if hasattr(connection, 'read_only'):
        connection.read_only = True  # psycopg 3
    else:
        connection.set_session(readonly=True)


def set_serializable(connection):
    if hasattr(connection, 'read_only'):
        import psycopg
        connection.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
        connection.deferrable = True
    else:
        import psycopg2.extensions
        connection.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_SERIALIZABLE,
                               deferrable=True)


@pytest.mark.parametrize('policy', POLICIES)
def test_a_read_only_flag_set_on_the_driver_object_does_not_make_the_next_borrower_read_only(
        make_pool, policy):
    pool = make_pool(MAX_CONNS=1, RESET_ON_RETURN=policy)
    entry = lend_twice(pool, set_read_only)
    assert in_transaction(entry.connection, 'SHOW transaction_read_only') == 'off'
    assert run_sql(entry.connection, 'SHOW default_transaction_read_only') == 'off'
    pool.checkin(entry)


@pytest.mark.parametrize('policy', POLICIES)
def test_an_isolation_level_set_on_the_driver_object_is_put_back(make_pool, policy):
    pool = make_pool(MAX_CONNS=1, RESET_ON_RETURN=policy)
    entry = lend_twice(pool, set_serializable)
    assert in_transaction(entry.connection, 'SHOW transaction_isolation') == 'read committed'
    assert in_transaction(entry.connection, 'SHOW transaction_deferrable') == 'off'
    pool.checkin(entry)


def set_dict_rows(connection):
    if hasattr(connection, 'row_factory'):
        import psycopg.rows
        connection.row_factory = psycopg.rows.dict_row
    else:
        import psycopg2.extras
        connection.cursor_factory = psycopg2.extras.RealDictCursor


def set_cursor_factory(connection):
    if hasattr(connection, 'row_factory'):
        import psycopg
        connection.cursor_factory = psycopg.ClientCursor
    else:
        import psycopg2.extras
        connection.cursor_factory = psycopg2.extras.NamedTupleCursor


@pytest.mark.parametrize('policy', POLICIES)
@pytest.mark.parametrize('change', [set_dict_rows, set_cursor_factory])
def test_the_next_borrower_gets_the_cursors_and_rows_the_connection_was_opened_with(
        make_pool, policy, change):
    pool = make_pool(MAX_CONNS=1, RESET_ON_RETURN=policy)
    entry = pool.checkout()
    cursor_class = type(entry.connection.cursor())
    pool.checkin(entry)
    entry = lend_twice(pool, change)
    cursor = entry.connection.cursor()
    try:
        assert type(cursor) is cursor_class
        cursor.execute('SELECT 1 AS one')
        row = cursor.fetchone()
    finally:
        cursor.close()
    assert type(row) is tuple and row == (1,)
    pool.checkin(entry)


def load_integers_as_text(connection):
    if hasattr(connection, 'adapters'):
        from psycopg.types.string import TextLoader
        connection.adapters.register_loader('int4', TextLoader)
    else:
        import psycopg2.extensions
        as_text = psycopg2.extensions.new_type((23,), 'DBPOOL_INT4_AS_TEXT', lambda value, cursor: value)
        psycopg2.extensions.register_type(as_text, connection)


@pytest.mark.parametrize('policy', POLICIES)
def test_a_type_adapter_registered_on_the_connection_is_gone_for_the_next_borrower(
        make_pool, policy):
    pool = make_pool(MAX_CONNS=1, RESET_ON_RETURN=policy)
    entry = lend_twice(pool, load_integers_as_text)
    assert run_sql(entry.connection, 'SELECT 41 + 1') == 42
    pool.checkin(entry)
    # And the one put back still takes registrations (a copy, not the original).
    entry = lend_twice(pool, load_integers_as_text)
    assert run_sql(entry.connection, 'SELECT 41 + 1') == 42
    pool.checkin(entry)


RAISE_NOTICE = "DO $$ BEGIN RAISE NOTICE 'dbpool notice'; END $$"


@pytest.mark.parametrize('policy', POLICIES)
def test_notices_collected_for_a_borrower_are_not_shown_to_the_next(make_pool, driver, policy):
    pool = make_pool(MAX_CONNS=1, RESET_ON_RETURN=policy)
    seen = []

    def collect(connection):
        if driver.__name__ == 'psycopg2':
            run_sql(connection, RAISE_NOTICE)
            assert len(connection.notices) == 1
        else:
            connection.add_notice_handler(seen.append)
            run_sql(connection, RAISE_NOTICE)
            assert len(seen) == 1

    entry = lend_twice(pool, collect)
    connection = entry.connection
    if driver.__name__ == 'psycopg2':
        assert connection.notices == []
    run_sql(connection, RAISE_NOTICE)
    assert len(seen) <= 1  # the first borrower's handler is no longer called
    pool.checkin(entry)


@pytest.mark.parametrize('policy', POLICIES)
def test_notifications_received_for_a_borrower_are_not_shown_to_the_next(make_pool, driver,
                                                                         policy):
    pool = make_pool(MAX_CONNS=1, RESET_ON_RETURN=policy)
    heard = []

    def listen(connection):
        run_sql(connection, 'LISTEN dbpool_channel')
        run_sql(connection, "NOTIFY dbpool_channel, 'kept'")
        if driver.__name__ == 'psycopg2':
            assert len(connection.notifies) == 1
        else:
            # The first is kept for a notifies() generator, the second
            # goes to the handler.
            connection.add_notify_handler(heard.append)
            run_sql(connection, "NOTIFY dbpool_channel, 'handled'")
            assert len(heard) == 1
        if policy == 'rollback':
            run_sql(connection, 'UNLISTEN *')  # 'rollback' leaves the LISTEN itself

    entry = lend_twice(pool, listen)
    connection = entry.connection
    if driver.__name__ == 'psycopg2':
        assert connection.notifies == []
    else:
        assert list(connection.notifies(timeout=0.05)) == []
        run_sql(connection, 'LISTEN dbpool_other')
        run_sql(connection, "NOTIFY dbpool_other, 'second'")
        assert len(heard) == 1  # the first borrower's handler is no longer called
        run_sql(connection, 'UNLISTEN *')
    pool.checkin(entry)


def test_psycopg3_settings_of_its_own_are_put_back(app_name):
    psycopg = pytest.importorskip('psycopg')
    factory = PoolFactory(psycopg, app_name)
    try:
        pool = factory(MAX_CONNS=1, RESET_ON_RETURN='full')
        entry = pool.checkout()
        opened = (entry.connection.prepare_threshold, entry.connection.prepared_max)
        pool.checkin(entry)

        def change(connection):
            connection.prepare_threshold = 0
            connection.prepared_max = 3

        entry = lend_twice(pool, change)
        assert (entry.connection.prepare_threshold, entry.connection.prepared_max) == opened
        pool.checkin(entry)
    finally:
        factory.close()


SEEDING = {
    'a call': ['SELECT setseed(0.5)'],
    'a do block': ["DO $$ BEGIN PERFORM setseed(0.5); END $$"],
    'a function': ['CREATE OR REPLACE FUNCTION pg_temp.seed() RETURNS void LANGUAGE sql '
                   'AS $$ SELECT setseed(0.5) $$', 'SELECT pg_temp.seed()'],
}


@pytest.mark.parametrize('policy', ['auto', 'full'])
@pytest.mark.parametrize('how', sorted(SEEDING))
def test_a_random_seed_set_by_a_borrower_does_not_repeat_for_the_next(make_pool, policy, how):
    pool = make_pool(MAX_CONNS=1, RESET_ON_RETURN=policy)

    def seed(connection):
        for sql in SEEDING[how]:
            run_sql(connection, sql)

    entry = pool.checkout()
    entry.connection.autocommit = True
    seed(entry.connection)
    seeded = run_sql(entry.connection, 'SELECT random()')
    pool.checkin(entry)
    followers = []
    for _ in range(3):
        entry = lend_twice(pool, seed)
        followers.append(run_sql(entry.connection, 'SELECT random()'))
        pool.checkin(entry)
    # Without a new seed each would be the seeded sequence's first number.
    assert seeded not in followers
    assert len(set(followers)) == 3


def test_a_session_that_only_changed_settings_gets_the_plain_reset(make_pool, app_name, admin):
    # SET cannot call setseed(): 'auto' resets without a new seed, and
    # then, the server's zone being Django's, in one DISCARD ALL.
    pool = make_pool(MAX_CONNS=1, RESET_ON_RETURN='auto', time_zone=None)
    entry = pool.checkout()
    entry.connection.autocommit = True
    run_sql(entry.connection, 'SET statement_timeout = 1234')
    pool.checkin(entry)
    last = admin.query('SELECT query FROM pg_stat_activity WHERE application_name = %s',
                       [app_name])
    assert last == [('DISCARD ALL',)]
    assert pool.stats()['resets'] == 1


def test_the_pools_catalog_read_is_not_shaped_by_a_borrowers_row_factory(make_pool):
    # 'auto' reads the catalog at the first checkin; with the borrower's
    # dict rows it would misread it, distrust the database's code and
    # reset after every data statement.
    pool = make_pool(MAX_CONNS=1, RESET_ON_RETURN='auto')
    entry = lend_twice(pool, set_dict_rows)
    pool.checkin(entry)
    snapshot = pool.stats()
    assert snapshot['code_checks'] == 1
    assert snapshot['resets'] == 0
    assert snapshot['resets_skipped'] == 2


def test_a_psycopg2_connection_whose_settings_cannot_be_put_back_is_closed_not_lent(
        admin, app_name):
    # psycopg 3 puts its settings back without a round trip: nothing to fail.
    psycopg2 = pytest.importorskip('psycopg2')
    factory = PoolFactory(psycopg2, app_name)
    try:
        pool = factory(MAX_CONNS=1, RESET_ON_RETURN='full')
        entry = pool.checkout()
        connection = entry.connection
        connection.autocommit = True
        first_pid = backend_pid(connection)
        set_read_only(connection)  # in autocommit: a SET, which the restore undoes with another
        admin.terminate(app_name)
        pool.checkin(entry)  # the restore's SET fails: no error for the borrower
        assert pool.stats()['discarded_reset_failed'] == 1
        entry = pool.checkout()
        entry.connection.autocommit = True
        assert backend_pid(entry.connection) != first_pid
        assert in_transaction(entry.connection, 'SHOW transaction_read_only') == 'off'
        pool.checkin(entry)
    finally:
        factory.close()
