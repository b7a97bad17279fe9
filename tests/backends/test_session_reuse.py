"""The default policy under Django: a request that left its session alone costs nothing more.

It gets no reset and its next checkout skips Django's connect(); a request
that changed its session, through Django's cursors, the raw driver
connection or a function, gets the reset and Django's set-up again.
Round trips are counted by a proxy that reads the protocol, not timed.
"""
from __future__ import absolute_import, division, print_function

import pytest
from django.db import connections

from dbpool import compat, stats
from tests.backends.djangocompat import extra_alias
from tests.proxy import FaultProxy
from tests.support import database

# 1.3 to 1.5 check out in _cursor(), which repeats their whole set-up.
needs_hooks = pytest.mark.skipif(compat.ERA in ('django13', 'django14'),
                                 reason='Django 1.3-1.5 have no connect() to skip')


def full_settings(**options):
    options.setdefault('MAX_CONNS', 1)
    return dict(connections['default'].settings_dict, OPTIONS=options)


def run(wrapper, *statements):
    """One request: each statement through Django's cursor, then the request's end."""
    rows = []
    cursor = wrapper.cursor()
    try:
        for sql in statements:
            cursor.execute(sql)
            rows.append(cursor.fetchone() if cursor.description else None)
    finally:
        cursor.close()
    wrapper.close()
    return rows


def count_connects(wrapper):
    """Count the calls of Django's get_connection_params(), the first step of connect()."""
    calls = []
    original = wrapper.get_connection_params

    def counted():
        calls.append(1)
        return original()

    wrapper.get_connection_params = counted
    return calls


def pool_stats(wrapper):
    return wrapper._dbpool_last_pool[2].stats()


@needs_hooks
def test_a_request_that_left_its_session_alone_is_lent_again_without_djangos_connect():
    with extra_alias('reuse', full_settings()) as wrapper:
        connects = count_connects(wrapper)
        pids = [run(wrapper, 'SELECT pg_backend_pid()')[0][0] for _ in range(4)]
        assert len(set(pids)) == 1
        assert len(connects) == 1
        snapshot = pool_stats(wrapper)
        assert snapshot[stats.RESETS] == 0
        assert snapshot[stats.RESETS_SKIPPED] == 4


@needs_hooks
def test_a_request_that_changed_its_session_gets_the_reset_and_djangos_set_up_again():
    with extra_alias('changed', full_settings()) as wrapper:
        connects = count_connects(wrapper)
        run(wrapper, 'SET statement_timeout = 4321')
        assert run(wrapper, 'SHOW statement_timeout', 'SELECT 1') == [('0',), (1,)]
        assert len(connects) == 2  # after the reset, Django sets the session up again
        run(wrapper, 'SELECT 1')
        assert len(connects) == 2
        assert pool_stats(wrapper)[stats.RESETS] == 1


def test_a_change_made_through_the_raw_driver_connection_is_reset():
    with extra_alias('raw', full_settings()) as wrapper:
        cursor = wrapper.cursor()
        raw_cursor = wrapper.connection.cursor()  # the driver's, past Django
        raw_cursor.execute('SET search_path TO pg_catalog')
        raw_cursor.close()
        cursor.close()
        wrapper.close()
        assert run(wrapper, 'SHOW search_path') == [('"$user", public',)]


def test_a_change_made_inside_a_plpgsql_function_is_reset(admin):
    admin.query('DROP FUNCTION IF EXISTS dbpool_meddle()')
    admin.query("CREATE FUNCTION dbpool_meddle() RETURNS int LANGUAGE plpgsql AS $$ BEGIN "
                "PERFORM set_config('statement_timeout', '9s', false); RETURN 1; END $$")
    try:
        with extra_alias('function', full_settings()) as wrapper:
            run(wrapper, 'SELECT dbpool_meddle()')
            assert run(wrapper, 'SHOW statement_timeout') == [('0',)]
    finally:
        admin.query('DROP FUNCTION dbpool_meddle()')


def round_trips_per_request(policy, requests=10):
    """Round trips the server answered per one-query request, after the first two."""
    settings_dict = database()
    proxy = FaultProxy(settings_dict['PORT'], count=True)
    try:
        counted = full_settings(RESET_ON_RETURN=policy)
        counted.update(HOST=proxy.host, PORT=proxy.port)
        with extra_alias('counted', counted) as wrapper:
            for _ in range(2):  # the connection, Django's set-up, the catalog read
                run(wrapper, 'SELECT 1')
            before = proxy.round_trips()
            for _ in range(requests):
                run(wrapper, 'SELECT 1')
            return (proxy.round_trips() - before) / requests
    finally:
        proxy.close()


@needs_hooks
def test_a_one_query_request_costs_one_round_trip():
    assert round_trips_per_request('auto') == 1


@needs_hooks
def test_full_resets_cost_the_reset_round_trip_at_every_request():
    # At least the reset; Django 1.6's connect() adds one of its own
    # (psycopg2 re-applies the session defaults when it leaves autocommit).
    assert round_trips_per_request('full') >= 2


@needs_hooks
def test_what_a_checked_out_receiver_sets_belongs_to_that_borrower_only():
    from dbpool.db.signals import connection_checked_out

    def per_borrower(sender, connection, new, **kwargs):
        if connection.alias == 'receiver' and not seen:
            cursor = connection.connection.cursor()
            cursor.execute("SET application_name = 'first borrower'")
            cursor.close()

    seen = []
    connection_checked_out.connect(per_borrower)
    try:
        with extra_alias('receiver', full_settings(application_name='dbpool-receiver')) \
                as wrapper:
            seen.extend(run(wrapper, 'SHOW application_name'))
            seen.extend(run(wrapper, 'SHOW application_name'))
    finally:
        connection_checked_out.disconnect(per_borrower)
    assert seen == [('first borrower',), ('dbpool-receiver',)]


@needs_hooks
def test_with_rollback_only_djangos_set_up_still_follows_a_changed_session():
    # No reset with 'rollback', but Django's connect() runs again and puts
    # its own time zone back, as it did at every checkout before.
    with extra_alias('rollback', full_settings(RESET_ON_RETURN='rollback')) as wrapper:
        connects = count_connects(wrapper)
        run(wrapper, "SET TIME ZONE 'Asia/Tokyo'")
        assert run(wrapper, 'SHOW TimeZone') == [('UTC',)]
        run(wrapper, 'SELECT 1')
        assert len(connects) == 2
