"""A schema statement that runs a query now is judged by what its query calls.

CREATE TABLE ... AS SELECT runs its SELECT in the borrower's session: a
call in it that changes the session (an advisory lock, a new random seed)
must get the reset under RESET_ON_RETURN='auto', as the same SELECT alone
would. A plain CREATE TABLE still costs no reset.
"""
from __future__ import absolute_import, division, print_function

import pytest

from tests.core.conftest import run_sql


@pytest.fixture
def scratch_table(admin):
    admin.query('DROP TABLE IF EXISTS dbpool_scratch')
    yield 'dbpool_scratch'
    admin.query('DROP TABLE IF EXISTS dbpool_scratch')


def lend(pool, *statements):
    entry = pool.checkout()
    entry.connection.autocommit = True
    for sql in statements:
        run_sql(entry.connection, sql)
    pool.checkin(entry)


def test_a_lock_taken_by_create_table_as_select_is_released_before_the_next_borrower(
        make_pool, scratch_table, admin):
    pool = make_pool(MAX_CONNS=1)
    lend(pool, 'SELECT 1')  # the catalog read of the first checkin
    lend(pool, 'CREATE TABLE %s AS SELECT pg_try_advisory_lock(7321) AS locked' % scratch_table)
    held = admin.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                       "AND objid = 7321")
    assert held == [(0,)]
    assert pool.stats()['resets'] == 1


def test_a_plain_create_table_costs_no_reset(make_pool, scratch_table):
    pool = make_pool(MAX_CONNS=1)
    lend(pool, 'SELECT 1')
    lend(pool, 'CREATE TABLE %s (x int)' % scratch_table)
    assert pool.stats()['resets'] == 0
