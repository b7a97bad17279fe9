"""RESET_ON_RETURN='auto': a session is reset only when it may differ from its clean state.

Whatever the borrower changed, and however (a cursor of any kind, a
function, a DO block, a trigger, a view), the next borrower finds the
session clean; a session the borrower left as it was costs no round trip.
Round trips are counted by a proxy that reads the protocol, not timed.
"""
from __future__ import absolute_import, division, print_function

import pytest

from dbpool import stats
from tests.core.conftest import PoolFactory, backend_pid, run_sql
from tests.proxy import FaultProxy
from tests.support import database

SEARCH_PATH = 'SHOW search_path'
CLEAN_PATH = '"$user", public'


@pytest.fixture
def counted(driver, app_name):
    """(a pool factory whose connections go through a counting proxy, the proxy)."""
    settings_dict = database()
    proxy = FaultProxy(settings_dict['PORT'], count=True)
    # As Django opens psycopg 3 connections: without psycopg's own
    # server-side preparing, which adds a round trip at the fifth run.
    extra = {'prepare_threshold': None} if driver.__name__ == 'psycopg' else {}
    factory = PoolFactory(driver, app_name, dict(settings_dict, HOST=proxy.host,
                                                 PORT=proxy.port), **extra)
    yield factory, proxy
    factory.close()
    proxy.close()


@pytest.fixture
def database_code(admin):
    """Functions, a trigger and a view of the database's own, dropped afterwards."""
    admin.query('DROP SCHEMA IF EXISTS dbpool_code CASCADE')
    admin.query('CREATE SCHEMA dbpool_code')
    admin.query(
        "CREATE FUNCTION dbpool_code.meddle() RETURNS int LANGUAGE plpgsql AS $$ BEGIN "
        "PERFORM set_config('search_path', 'pg_catalog', false); "
        "CREATE TEMP TABLE IF NOT EXISTS dbpool_meddled (x int); "
        "PERFORM pg_advisory_lock(777); RETURN 1; END $$")
    admin.query(
        "CREATE FUNCTION dbpool_code.meddling_trigger() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN PERFORM set_config('search_path', 'pg_catalog', false); "
        "RETURN NEW; END $$")
    admin.query('CREATE TABLE dbpool_code.audited (x int)')
    admin.query('CREATE TRIGGER meddle BEFORE INSERT ON dbpool_code.audited '
                'FOR EACH ROW EXECUTE FUNCTION dbpool_code.meddling_trigger()')
    yield
    admin.query('DROP SCHEMA dbpool_code CASCADE')


@pytest.fixture
def meddling_view(admin):
    """A view that calls a built-in which changes the session."""
    admin.query("CREATE VIEW dbpool_meddling_view AS "
                "SELECT set_config('search_path', 'pg_catalog', false) AS path")
    yield
    admin.query('DROP VIEW dbpool_meddling_view')


def borrow(pool, *statements):
    """Check out, run ``statements`` in autocommit as Django does, check in; the backend pid."""
    entry = pool.checkout()
    connection = entry.connection
    connection.autocommit = True
    pid = backend_pid(connection)
    for sql in statements:
        run_sql(connection, sql)
    pool.checkin(entry)
    return pid


def next_borrower_sees(pool, probe):
    entry = pool.checkout()
    try:
        return backend_pid(entry.connection), run_sql(entry.connection, probe)
    finally:
        pool.checkin(entry)


def test_a_session_left_as_found_costs_no_round_trip_at_checkout_or_checkin(counted):
    factory, proxy = counted
    pool = factory(MAX_CONNS=1)
    borrow(pool)  # opens the connection; its checkin reads the catalog once
    before = proxy.round_trips()
    for _ in range(5):
        borrow(pool)  # one statement: SELECT pg_backend_pid()
    assert proxy.round_trips() - before == 5
    snapshot = pool.stats()
    assert snapshot[stats.RESETS_SKIPPED] == 6
    assert snapshot[stats.RESETS] == 0
    assert snapshot[stats.CODE_CHECKS] == 1


def test_a_changed_session_costs_exactly_one_round_trip_more(counted):
    factory, proxy = counted
    pool = factory(MAX_CONNS=1)
    borrow(pool)
    before = proxy.round_trips()
    borrow(pool, 'SET statement_timeout = 1234')
    # pg_backend_pid(), the SET, and the reset.
    assert proxy.round_trips() - before == 3
    assert next_borrower_sees(pool, 'SHOW statement_timeout')[1] == '0'


def test_full_resets_every_session_whatever_happened(counted):
    factory, proxy = counted
    pool = factory(MAX_CONNS=1, RESET_ON_RETURN='full')
    borrow(pool)
    before = proxy.round_trips()
    borrow(pool)
    assert proxy.round_trips() - before == 2
    assert pool.stats()[stats.RESETS_SKIPPED] == 0


def test_changes_made_inside_a_function_are_cleaned(make_pool, database_code):
    pool = make_pool(MAX_CONNS=1)
    pid = borrow(pool, 'SELECT dbpool_code.meddle()')
    assert next_borrower_sees(pool, SEARCH_PATH) == (pid, CLEAN_PATH)
    assert next_borrower_sees(pool, "SELECT to_regclass('pg_temp.dbpool_meddled') IS NULL")[1]
    assert next_borrower_sees(
        pool, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
              "AND pid = pg_backend_pid()")[1] == 0


def test_changes_made_inside_a_do_block_are_cleaned(make_pool):
    pool = make_pool(MAX_CONNS=1)
    pid = borrow(pool, "DO $$ BEGIN PERFORM set_config('search_path', 'pg_catalog', false); "
                       "END $$")
    assert next_borrower_sees(pool, SEARCH_PATH) == (pid, CLEAN_PATH)


def test_changes_made_by_a_trigger_are_cleaned(make_pool, database_code):
    pool = make_pool(MAX_CONNS=1)
    pid = borrow(pool, 'INSERT INTO dbpool_code.audited VALUES (1)')
    assert next_borrower_sees(pool, SEARCH_PATH) == (pid, CLEAN_PATH)


def test_changes_made_by_reading_a_view_are_cleaned(make_pool, meddling_view):
    pool = make_pool(MAX_CONNS=1)
    pid = borrow(pool, 'SELECT path FROM dbpool_meddling_view')
    assert next_borrower_sees(pool, SEARCH_PATH) == (pid, CLEAN_PATH)


def test_a_database_whose_own_code_may_meddle_gets_the_reset_after_data_statements(
        counted, database_code):
    factory, proxy = counted
    pool = factory(MAX_CONNS=1)
    borrow(pool)
    before = proxy.round_trips()
    borrow(pool, 'SELECT 1')
    assert proxy.round_trips() - before == 3  # pid, SELECT 1, the reset


def test_trusted_functions_let_data_statements_skip_the_reset(counted, database_code):
    factory, proxy = counted
    # Told (here wrongly, for the trigger) that the database's own code is harmless.
    pool = factory(MAX_CONNS=1, TRUSTED_FUNCTIONS=['meddle', 'meddling_trigger'])
    borrow(pool)
    before = proxy.round_trips()
    borrow(pool, 'SELECT 1')
    assert proxy.round_trips() - before == 2
    assert pool.stats()[stats.RESETS] == 0


def test_a_view_calling_a_builtin_that_meddles_is_not_trusted_by_name(
        make_pool, database_code, meddling_view):
    pool = make_pool(MAX_CONNS=1, TRUSTED_FUNCTIONS=['meddle', 'meddling_trigger'])
    borrow(pool, 'SELECT 1')
    # The view calls set_config(), which no trusted name covers.
    assert pool.stats()[stats.RESETS] == 1


def test_a_reported_setting_changed_behind_the_classifier_is_still_reset(make_pool, admin):
    # A function the pool is told to trust, which lies: the server's own
    # report of the parameter (no round trip) still shows the change.
    admin.query('DROP FUNCTION IF EXISTS dbpool_liar()')
    admin.query("CREATE FUNCTION dbpool_liar() RETURNS text LANGUAGE sql AS "
                "$$ SELECT set_config('DateStyle', 'German', false) $$")
    try:
        pool = make_pool(MAX_CONNS=1, TRUSTED_FUNCTIONS=['dbpool_liar'])
        pid = borrow(pool, 'SELECT dbpool_liar()')
        assert next_borrower_sees(pool, 'SHOW DateStyle') == (pid, 'ISO, MDY')
    finally:
        admin.query('DROP FUNCTION dbpool_liar()')


def test_schema_changes_make_the_pool_read_the_catalog_again(make_pool):
    pool = make_pool(MAX_CONNS=1)
    borrow(pool)
    borrow(pool, 'CREATE TABLE dbpool_fresh_table (x int)', 'DROP TABLE dbpool_fresh_table')
    snapshot = pool.stats()
    assert snapshot[stats.CODE_CHECKS] == 2
    # A table is no session state: nothing to reset.
    assert snapshot[stats.RESETS] == 0


def test_a_cursor_made_with_another_factory_is_seen(make_pool, driver):
    pool = make_pool(MAX_CONNS=1)
    entry = pool.checkout()
    connection = entry.connection
    connection.autocommit = True
    pid = backend_pid(connection)
    if driver.__name__ == 'psycopg2':
        import psycopg2.extras
        cursor = connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
    else:
        cursor = connection.cursor(row_factory=driver.rows.dict_row)
    cursor.execute('SET search_path TO pg_catalog')
    cursor.close()
    pool.checkin(entry)
    assert next_borrower_sees(pool, SEARCH_PATH) == (pid, CLEAN_PATH)


def test_psycopg3_cursors_built_directly_on_the_connection_are_seen():
    psycopg = pytest.importorskip('psycopg')
    factory = PoolFactory(psycopg, 'dbpool-direct-cursor')
    try:
        pool = factory(MAX_CONNS=1)
        entry = pool.checkout()
        connection = entry.connection
        connection.autocommit = True
        pid = backend_pid(connection)
        cursor = psycopg.ClientCursor(connection)  # not through connection.cursor()
        cursor.execute('SET search_path TO pg_catalog')
        cursor.close()
        pool.checkin(entry)
        assert next_borrower_sees(pool, SEARCH_PATH) == (pid, CLEAN_PATH)
    finally:
        factory.close()


def test_a_with_hold_cursor_left_open_is_closed_and_a_closed_one_costs_nothing(counted):
    factory, proxy = counted
    pool = factory(MAX_CONNS=1)
    borrow(pool)
    for leave_open in (True, False):
        entry = pool.checkout()
        connection = entry.connection
        connection.autocommit = True
        cursor = connection.cursor(name='dbpool_held', withhold=True)
        cursor.execute('SELECT generate_series(1, 100)')
        cursor.fetchmany(10)
        if not leave_open:
            cursor.close()
        resets = pool.stats()[stats.RESETS]
        pool.checkin(entry)
        assert pool.stats()[stats.RESETS] == resets + (1 if leave_open else 0)
        assert next_borrower_sees(pool, 'SELECT count(*) FROM pg_cursors')[1] == 0


def test_driver_object_settings_are_put_back(counted, driver):
    factory, proxy = counted
    pool = factory(MAX_CONNS=1)
    borrow(pool)
    entry = pool.checkout()
    connection = entry.connection
    before = proxy.round_trips()
    if driver.__name__ == 'psycopg2':
        # In autocommit psycopg2 applies these with SET default_transaction_*.
        connection.set_session(readonly=True, deferrable=True)
        flags = lambda c: (c.readonly, c.deferrable)  # noqa: E731
    else:
        # psycopg 3 keeps them on the client until the next BEGIN.
        connection.read_only = True
        connection.deferrable = True
        flags = lambda c: (c.read_only, c.deferrable)  # noqa: E731
    pool.checkin(entry)
    if driver.__name__ != 'psycopg2':
        assert proxy.round_trips() == before
        assert pool.stats()[stats.RESETS] == 0
    entry = pool.checkout()
    assert flags(entry.connection) == (None, None)
    assert run_sql(entry.connection, 'SHOW default_transaction_read_only') == 'off'
    assert run_sql(entry.connection, 'SHOW default_transaction_deferrable') == 'off'
    pool.checkin(entry)


def test_the_catalog_read_is_cut_by_ping_timeout_when_the_server_stalls(counted):
    import time
    factory, proxy = counted
    pool = factory(MAX_CONNS=1, PING_TIMEOUT=0.5)
    entry = pool.checkout()
    entry.connection.autocommit = True
    backend_pid(entry.connection)
    proxy.stall()  # the first checkin reads the catalog: it must not hang
    try:
        started = time.time()
        pool.checkin(entry)
        assert time.time() - started < 5
    finally:
        proxy.resume()
    snapshot = pool.stats()
    assert snapshot[stats.CONNECTIONS_IN_USE] == 0
    assert snapshot['discarded_' + stats.DISCARD_RESET_FAILED] == 1


def test_psycopg3_copy_and_stream_are_judged_like_execute(counted):
    psycopg = pytest.importorskip('psycopg')
    factory, proxy = counted
    if factory.driver is not psycopg:
        pytest.skip('psycopg 3 only: copy() and stream()')
    pool = factory(MAX_CONNS=1)
    borrow(pool)
    entry = pool.checkout()
    connection = entry.connection
    connection.autocommit = True
    cursor = connection.cursor()
    with cursor.copy('COPY (SELECT generate_series(1, 3)) TO STDOUT') as copy:
        assert len(list(copy.rows())) == 3
    assert [row[0] for row in cursor.stream('SELECT generate_series(1, 3)')] == [1, 2, 3]
    cursor.close()
    pool.checkin(entry)
    assert pool.stats()[stats.RESETS] == 0  # both harmless, both seen as such


def test_the_driver_connections_cursor_factory_stays_the_one_given(make_pool, driver):
    pool = make_pool(MAX_CONNS=1)
    entry = pool.checkout()
    try:
        factory = entry.connection.cursor_factory
        assert factory is None or factory.__module__.split('.')[0] != 'dbpool'
    finally:
        pool.checkin(entry)


def test_a_cursor_class_made_per_connection_does_not_outlive_its_connections(make_pool, driver):
    import gc
    import weakref
    pool = make_pool(MAX_CONNS=1)
    entry = pool.checkout()
    connection = entry.connection
    base = type(connection.cursor())  # psycopg 3: tracked; psycopg2: the C cursor
    base = getattr(base, '_dbpool_base', base)
    made = []
    for _ in range(3):
        per_connection = type(str('PerConnectionCursor'), (base,), {})
        cursor = connection.cursor(cursor_factory=per_connection) \
            if driver.__name__ == 'psycopg2' else None
        if cursor is None:
            from dbpool import tracking
            tracked = tracking._tracked_class(per_connection, tracking._Psycopg3CursorTracking)
        else:
            tracked = type(cursor)
            cursor.close()
        assert tracked.__bases__ == (per_connection,)
        made.append(weakref.ref(per_connection))
        del per_connection, tracked, cursor
    pool.checkin(entry)
    gc.collect()
    assert [ref() for ref in made] == [None, None, None]
