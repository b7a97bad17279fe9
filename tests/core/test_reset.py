"""Whatever a borrower did to its session is gone for the next borrower."""
from __future__ import absolute_import, division, print_function

import pytest

from dbpool import stats
from tests.core.conftest import backend_pid, run_sql

ROLE = 'dbpool_test_role'

# (what the borrower does, a probe, the probe's answer on a clean session)
SESSION_STATE = {
    'search_path': (['SET search_path TO pg_catalog'], 'SHOW search_path', '"$user", public'),
    'time_zone': (["SET TIME ZONE 'Pacific/Chatham'"],
                  "SELECT current_setting('TimeZone') <> 'Pacific/Chatham'", True),
    'statement_timeout': (["SET statement_timeout = '1s'"], 'SHOW statement_timeout', '0'),
    'role': (['SET ROLE %s' % ROLE], 'SELECT current_user = session_user', True),
    'session_authorization': (['SET SESSION AUTHORIZATION %s' % ROLE],
                              'SELECT session_user <> %r' % ROLE, True),
    'temp_table': (['CREATE TEMP TABLE dbpool_tmp (x int)'],
                   "SELECT to_regclass('pg_temp.dbpool_tmp') IS NULL", True),
    'advisory_lock': (['SELECT pg_advisory_lock(4242)'],
                      "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                      'AND pid = pg_backend_pid()', 0),
    'prepared_statement': (['PREPARE dbpool_stmt AS SELECT 1'],
                           'SELECT count(*) FROM pg_prepared_statements', 0),
    'listen': (['LISTEN dbpool_channel'], 'SELECT count(*) FROM pg_listening_channels()', 0),
    'cursor_with_hold': (['BEGIN', 'DECLARE dbpool_cur CURSOR WITH HOLD FOR SELECT 1', 'COMMIT'],
                         'SELECT count(*) FROM pg_cursors', 0),
    'open_transaction': (['BEGIN', 'SET LOCAL search_path TO pg_catalog'],
                         "SELECT current_setting('transaction_isolation') IS NOT NULL "
                         "AND current_setting('search_path') = '\"$user\", public'", True),
    'aborted_transaction': (['BEGIN', 'SELECT 1 / 0'], 'SELECT 1', 1),
}


# What the rollback at checkin undoes by itself: 'auto' needs no reset after it.
ENDS_WITH_THE_TRANSACTION = frozenset(['open_transaction', 'aborted_transaction'])


@pytest.fixture(scope='module', autouse=True)
def test_role():
    from tests.support import Admin
    admin = Admin()
    if not admin.query('SELECT 1 FROM pg_roles WHERE rolname = %s', [ROLE]):
        admin.query('CREATE ROLE %s' % ROLE)
    admin.close()


def dirty_the_session(connection, statements):
    for sql in statements:
        try:
            run_sql(connection, sql)
        except Exception:
            # The aborted-transaction case fails on purpose and stays aborted.
            break


@pytest.fixture(params=['discard_all', 'spelt_out'])
def wanted_time_zone(request, server_time_zone):
    """Both forms of the full reset: DISCARD ALL when the zone Django wants is
    the server's default, the spelt-out form with SET TIME ZONE otherwise."""
    if request.param == 'discard_all':
        return server_time_zone
    return 'America/Lima' if server_time_zone == 'Asia/Tokyo' else 'Asia/Tokyo'


@pytest.mark.parametrize('policy', ['auto', 'full'])
@pytest.mark.parametrize('case', sorted(SESSION_STATE))
def test_the_reset_clears_session_state_before_the_next_checkout(
        make_pool, wanted_time_zone, case, policy):
    # 'auto' (the default) must see each change and reset; 'full' resets anyway.
    statements, probe, clean = SESSION_STATE[case]
    pool = make_pool(MAX_CONNS=1, time_zone=wanted_time_zone, RESET_ON_RETURN=policy)
    entry = pool.checkout()
    entry.connection.autocommit = True  # as Django leaves it by default
    first_pid = backend_pid(entry.connection)
    assert run_sql(entry.connection, probe) == clean
    dirty_the_session(entry.connection, statements)
    pool.checkin(entry)
    entry = pool.checkout()
    # The same session came back (not a new connection), yet it is clean.
    assert backend_pid(entry.connection) == first_pid
    assert run_sql(entry.connection, probe) == clean
    pool.checkin(entry)
    snapshot = pool.stats()
    assert snapshot[stats.CONNECTIONS_CREATED] == 1
    if case not in ENDS_WITH_THE_TRANSACTION:
        assert snapshot[stats.RESETS] >= 1


def test_the_time_zone_reset_leaves_nothing_for_django_to_send(make_pool, wanted_time_zone):
    pool = make_pool(MAX_CONNS=1, time_zone=wanted_time_zone)
    for _ in range(2):  # the first reset may use either form, later ones are tuned
        entry = pool.checkout()
        entry.connection.autocommit = True
        dirty_the_session(entry.connection, ["SET TIME ZONE 'Pacific/Chatham'"])
        pool.checkin(entry)
        entry = pool.checkout()
        # Reported by the server in the reset's own round trip; Django reads
        # this and sends nothing when it is already the zone it wants.
        assert entry.connection.info.parameter_status('TimeZone') == wanted_time_zone
        pool.checkin(entry)


def test_rollback_policy_ends_the_transaction_but_keeps_session_settings(make_pool):
    pool = make_pool(MAX_CONNS=1, RESET_ON_RETURN='rollback')
    entry = pool.checkout()
    entry.connection.autocommit = True
    dirty_the_session(entry.connection, ['SET search_path TO pg_catalog', 'BEGIN',
                                         'SELECT 1'])
    pool.checkin(entry)
    entry = pool.checkout()
    assert entry.connection.info.transaction_status == 0
    assert run_sql(entry.connection, 'SHOW search_path') == 'pg_catalog'
    pool.checkin(entry)


def test_psycopg3_prepared_statements_keep_working_across_resets(app_name, wanted_time_zone):
    # psycopg 3 only: psycopg2 keeps no prepared statements of its own.
    psycopg = pytest.importorskip('psycopg')
    from tests.core.conftest import PoolFactory
    factory = PoolFactory(psycopg, app_name, prepare_threshold=2)
    try:
        pool = factory(MAX_CONNS=1, time_zone=wanted_time_zone)
        # The first borrower runs the query once (not yet prepared), so
        # psycopg has seen the reset before it prepares anything; later
        # borrowers get it prepared, and each reset deallocates it on the
        # server: psycopg must forget it too, or the next run fails.
        for runs in (1, 3, 3, 3):
            entry = pool.checkout()
            entry.connection.autocommit = True
            for _ in range(runs):
                assert run_sql(entry.connection, 'SELECT %s::int + 1', [41]) == 42
            pool.checkin(entry)
        snapshot = pool.stats()
        assert snapshot[stats.CONNECTIONS_CREATED] == 1
        assert snapshot['discarded_' + stats.DISCARD_RESET_FAILED] == 0
    finally:
        factory.close()


def test_a_reset_the_server_refuses_closes_the_connection(make_pool):
    pool = make_pool(MAX_CONNS=1, RESET_ON_RETURN='full')
    entry = pool.checkout()
    first_pid = backend_pid(entry.connection)
    # A setting to put back at each reset that the server rejects, so the
    # reset's own statement fails (on psycopg 3, below its cursors).
    pool.keep_session_settings(entry, [('statement_timeout', 'not a duration')])
    pool.checkin(entry)
    assert entry.connection.closed
    assert pool.stats()['discarded_' + stats.DISCARD_RESET_FAILED] == 1
    entry = pool.checkout()
    assert backend_pid(entry.connection) != first_pid
    pool.checkin(entry)
