"""Through the ENGINE: what a request sets on the raw driver connection ends with the request.

A request that makes the driver connection read-only, or changes its
isolation level or row factory, must not hand that to later requests on
the same physical connection, whatever RESET_ON_RETURN says: Django 1.7+
apply their own isolation level only when they open a connection, and no
release puts the other settings back.
"""
from __future__ import absolute_import, division, print_function

import pytest
from django.db import connections, transaction

from tests.backends.conftest import request_scope_only
from tests.backends.djangocompat import HAS_ATOMIC, extra_alias

POLICIES = ['auto', 'full', 'rollback']


@pytest.fixture
def probe_table(admin):
    admin.query('DROP TABLE IF EXISTS dbpool_written')
    admin.query('CREATE TABLE dbpool_written (x int)')
    yield
    admin.query('DROP TABLE dbpool_written')


def pooled(policy):
    return dict(connections['default'].settings_dict,
                OPTIONS={'MAX_CONNS': 1, 'RESET_ON_RETURN': policy})


def in_transaction(wrapper, *statements):
    """Run ``statements`` in one transaction, as a request would; the last one's first row."""
    row = None
    if HAS_ATOMIC:
        with transaction.atomic(using=wrapper.alias):
            cursor = wrapper.cursor()
            for sql in statements:
                cursor.execute(sql)
                row = cursor.fetchone() if cursor.description else None
            cursor.close()
    else:  # 1.3-1.5: every request is in a transaction already
        cursor = wrapper.cursor()
        for sql in statements:
            cursor.execute(sql)
            row = cursor.fetchone() if cursor.description else None
        cursor.close()
        transaction.commit_unless_managed(using=wrapper.alias)
    return row


def make_read_only(raw):
    if hasattr(raw, 'read_only'):
        raw.read_only = True  # psycopg 3
    else:
        raw.set_session(readonly=True)


def make_serializable(raw):
    if hasattr(raw, 'read_only'):
        import psycopg
        raw.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
    else:
        import psycopg2.extensions
        raw.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_SERIALIZABLE)


def make_dict_rows(raw):
    if hasattr(raw, 'row_factory'):
        import psycopg.rows
        raw.row_factory = psycopg.rows.dict_row
    else:
        import psycopg2.extras
        raw.cursor_factory = psycopg2.extras.RealDictCursor


def first_request(wrapper, change):
    cursor = wrapper.cursor()
    cursor.execute('SELECT pg_backend_pid()')
    pid = cursor.fetchone()[0]
    cursor.close()
    if not HAS_ATOMIC:
        # 1.3-1.5 opened a transaction; the drivers change these between them.
        transaction.rollback_unless_managed(using=wrapper.alias)
    change(wrapper.connection)
    wrapper.close()
    return pid


@request_scope_only
@pytest.mark.parametrize('policy', POLICIES)
def test_a_request_that_made_the_raw_connection_read_only_does_not_break_the_next_ones_writes(
        probe_table, policy):
    with extra_alias('driver_state', pooled(policy)) as wrapper:
        pid = first_request(wrapper, make_read_only)
        for _ in range(2):
            row = in_transaction(wrapper, 'INSERT INTO dbpool_written VALUES (1)',
                                 'SELECT pg_backend_pid(), current_setting(\'transaction_read_only\')')
            wrapper.close()
            assert tuple(row) == (pid, 'off')


@request_scope_only
@pytest.mark.parametrize('policy', POLICIES)
def test_an_isolation_level_a_request_set_on_the_raw_connection_ends_with_it(policy):
    with extra_alias('driver_state', pooled(policy)) as wrapper:
        pid = first_request(wrapper, make_serializable)
        row = in_transaction(wrapper, "SELECT pg_backend_pid(), "
                                      "current_setting('transaction_isolation')")
        wrapper.close()
    assert tuple(row) == (pid, 'read committed')


@request_scope_only
@pytest.mark.parametrize('policy', POLICIES)
def test_a_row_factory_a_request_set_on_the_raw_connection_ends_with_it(policy):
    with extra_alias('driver_state', pooled(policy)) as wrapper:
        pid = first_request(wrapper, make_dict_rows)
        cursor = wrapper.cursor()
        cursor.execute('SELECT pg_backend_pid()')
        row = cursor.fetchone()
        cursor.close()
        wrapper.close()
    assert row == (pid,)
