"""On a database that is not UTF8, the client encoding survives the reset as the driver knows it.

RESET ALL puts client_encoding back to the database's default; psycopg2
keeps encoding with the one it set last and skips setting it again to
that value (Django 1.3-4.1 set UTF8 at every connect), so without the
pool's care a reset session stores UTF-8 bytes as LATIN1 text: the two
bytes of an e with acute accent become two characters.
psycopg 3 reads the encoding the server reports, so it follows the reset.
"""
from __future__ import absolute_import, division, print_function

import pytest

from tests.core.conftest import PoolFactory, run_sql
from tests.non_utf8 import CAFE, believed_encoding, non_utf8_database, text


@pytest.fixture(params=['LATIN1', 'SQL_ASCII'])
def non_utf8(request):
    """(the database's encoding, its settings)."""
    with non_utf8_database(request.param) as settings_dict:
        yield request.param, settings_dict


def lend(pool, policy, set_up, change=None):
    """One borrower: what it sees, its set-up, its ``change``, then one that makes 'auto' reset.

    Returns (the encoding the driver believes in, the server's, the
    length the server counts in CAFE as sent).
    """
    entry = pool.checkout()
    connection = entry.connection
    connection.autocommit = True
    seen = (believed_encoding(connection), text(run_sql(connection, 'SHOW client_encoding')))
    set_up(connection)
    if not entry.prepared:
        pool.session_prepared(entry)
    if change is not None:
        change(connection)
    length = run_sql(connection, 'SELECT length(%s::text)', [CAFE])
    if policy == 'auto':
        run_sql(connection, 'SET statement_timeout = 1000')
    pool.checkin(entry)
    return seen + (length,)


# SQL_ASCII counts bytes: CAFE in UTF-8 is 5 long there, however it was sent.
LENGTH = {'LATIN1': 4, 'SQL_ASCII': 5}


@pytest.mark.parametrize('policy', ['full', 'auto'])
def test_psycopg2_and_the_server_agree_on_the_client_encoding_after_every_reset(
        non_utf8, policy, app_name):
    psycopg2 = pytest.importorskip('psycopg2')
    encoding, settings_dict = non_utf8
    factory = PoolFactory(psycopg2, app_name, settings_dict)
    try:
        pool = factory(MAX_CONNS=1, RESET_ON_RETURN=policy)
        # As Django 1.3-4.1 set up every connection they get.
        seen = [lend(pool, policy, lambda connection: connection.set_client_encoding('UTF8'))
                for _ in range(4)]
        assert pool.stats()['connections_created'] == 1
    finally:
        factory.close()
    assert seen[0] == (encoding, encoding, LENGTH[encoding])
    assert seen[1:] == [('UTF8', 'UTF8', LENGTH[encoding])] * 3


@pytest.mark.parametrize('policy', ['full', 'auto'])
def test_a_client_encoding_a_psycopg2_borrower_chose_is_put_back(non_utf8, policy, app_name):
    psycopg2 = pytest.importorskip('psycopg2')
    encoding, settings_dict = non_utf8
    # As Django 4.2+ open connections: UTF8 from the start.
    factory = PoolFactory(psycopg2, app_name, settings_dict, client_encoding='UTF8')
    try:
        pool = factory(MAX_CONNS=1, RESET_ON_RETURN=policy)
        lend(pool, policy, lambda connection: None,
             lambda connection: connection.set_client_encoding('LATIN1'))
        seen = lend(pool, policy, lambda connection: None)
    finally:
        factory.close()
    assert seen == ('UTF8', 'UTF8', LENGTH[encoding])


@pytest.mark.parametrize('policy', ['full', 'auto'])
def test_psycopg3_follows_the_client_encoding_the_reset_puts_back(non_utf8, policy, app_name):
    psycopg = pytest.importorskip('psycopg')
    encoding, settings_dict = non_utf8
    factory = PoolFactory(psycopg, app_name, settings_dict)
    try:
        pool = factory(MAX_CONNS=1, RESET_ON_RETURN=policy)

        def set_up(connection):
            run_sql(connection, "SET client_encoding TO 'UTF8'")

        seen = [lend(pool, policy, set_up) for _ in range(3)]
        assert pool.stats()['connections_created'] == 1
    finally:
        factory.close()
    # The reset takes the session back to the database's encoding, and
    # psycopg 3 with it: they agree before each borrower's own set-up.
    assert seen == [(encoding, encoding, LENGTH[encoding])] * 3


@pytest.mark.parametrize('policy', ['full', 'auto'])
def test_a_psycopg2_session_left_in_its_default_encoding_gets_no_encoding_set_by_the_reset(
        non_utf8, policy, app_name, admin):
    psycopg2 = pytest.importorskip('psycopg2')
    encoding, settings_dict = non_utf8
    factory = PoolFactory(psycopg2, app_name, settings_dict)
    try:
        pool = factory(MAX_CONNS=1, RESET_ON_RETURN=policy)
        entry = pool.checkout()
        entry.connection.autocommit = True
        run_sql(entry.connection, 'SET statement_timeout = 1000')  # for 'auto' to reset
        pool.checkin(entry)
        assert pool.stats()['resets'] == 1
        # The reset was the session's last statement.
        last = admin.query('SELECT query FROM pg_stat_activity WHERE application_name = %s',
                           [app_name])
    finally:
        factory.close()
    assert len(last) == 1
    assert 'DISCARD ALL' in last[0][0] or 'RESET ALL' in last[0][0]
    assert 'client_encoding' not in last[0][0]


def test_an_untracked_psycopg2_connection_keeps_its_encoding_in_step_too(non_utf8, app_name):
    # Opened without tracking.psycopg2_connection_factory(): the pool knows
    # nothing of its session but what the driver object says.
    psycopg2 = pytest.importorskip('psycopg2')
    from dbpool.options import parse_pool_options
    from dbpool.pool import ConnectionPool
    from tests.support import connect_kwargs
    encoding, settings_dict = non_utf8
    pool = ConnectionPool(lambda: psycopg2.connect(**connect_kwargs(settings_dict, app_name)),
                          parse_pool_options({'MAX_CONNS': 1}, 'the test'), time_zone='UTC')
    try:
        seen = [lend(pool, 'full', lambda connection: connection.set_client_encoding('UTF8'))
                for _ in range(3)]
        assert pool.stats()['connections_created'] == 1
    finally:
        pool.close()
    assert seen[1:] == [('UTF8', 'UTF8', LENGTH[encoding])] * 2
