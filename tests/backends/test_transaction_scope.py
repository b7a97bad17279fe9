"""CHECKOUT_SCOPE='transaction': a request holds a connection only while a statement or transaction runs.

Between statements the connection is back in the pool, for any thread; a
session that a statement changed is pinned to its borrower until the
request ends. Every case runs on a real server, in every era.
"""
from __future__ import absolute_import, division, print_function

import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from dbpool import compat, stats
from tests.backends.djangocompat import HAS_ATOMIC, connect, extra_alias
from tests.support import run_threads_and_watch

# Django 1.3-1.5 run every request in a transaction unless OPTIONS asks
# for their autocommit mode: only then is there a statement's end.
OLD_AUTOCOMMIT = {'autocommit': True} if compat.ERA in ('django13', 'django14') else {}
needs_atomic = pytest.mark.skipif(not HAS_ATOMIC, reason='atomic() arrived in Django 1.6')


def scoped_settings(application_name='dbpool-scoped', **options):
    settings_dict = dict(connections['default'].settings_dict)
    values = dict(MAX_CONNS=1, MIN_CONNS=0, POOL_TIMEOUT=5, CHECKOUT_SCOPE='transaction',
                  application_name=application_name)
    values.update(OLD_AUTOCOMMIT)
    values.update(options)
    settings_dict['OPTIONS'] = values
    return settings_dict


def pool_of(wrapper):
    return wrapper._dbpool_last_pool[2]


def backend_pid(cursor):
    cursor.execute('SELECT pg_backend_pid()')
    return cursor.fetchone()[0]


def borrowed_elsewhere(alias):
    """Run a statement on ``alias`` from another thread; its result, or the error it raised."""
    outcome = []

    def work():
        try:
            cursor = connections[alias].cursor()
            outcome.append(backend_pid(cursor))
            cursor.close()
        except Exception as exc:
            outcome.append(exc)
        finally:
            connections[alias].close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return outcome[0]


def test_a_statement_outside_a_transaction_gives_the_connection_back_for_other_threads():
    with extra_alias('scoped', scoped_settings()) as wrapper:
        cursor = wrapper.cursor()
        mine = backend_pid(cursor)
        assert wrapper.connection is None
        assert pool_of(wrapper).stats()[stats.CONNECTIONS_IN_USE] == 0
        # MAX_CONNS=1: another thread borrows the one connection mid-request.
        assert borrowed_elsewhere('scoped') == mine
        assert backend_pid(cursor) == mine
        cursor.close()
        counted = pool_of(wrapper).stats()
        assert counted[stats.RETURNED_BETWEEN_STATEMENTS] >= 3
        assert counted[stats.PINNED] == 0


def test_the_next_statement_takes_back_the_connection_without_a_look_until_the_request_ends():
    # TEST_ON_BORROW pings at every checkout: only the request's first
    # borrow is one; its later statements take back the connection they
    # left, as request scope would have held it.
    with extra_alias('scoped', scoped_settings(TEST_ON_BORROW=True)) as wrapper:
        backend_pid(wrapper.cursor())  # opens the connection (a new one is not pinged)
        wrapper.close()
        before = pool_of(wrapper).stats()
        for request in (1, 2):
            cursor = wrapper.cursor()
            pids = set(backend_pid(cursor) for _ in range(3))
            cursor.close()
            wrapper.close()  # the request's end
            counted = pool_of(wrapper).stats()
            assert len(pids) == 1
            assert counted[stats.HEALTH_CHECKS] - before[stats.HEALTH_CHECKS] == request
            assert (counted[stats.RETURNED_BETWEEN_STATEMENTS]
                    - before[stats.RETURNED_BETWEEN_STATEMENTS]) == 3 * request


def test_request_scope_keeps_the_connection_until_the_request_ends():
    with extra_alias('whole', scoped_settings('dbpool-whole', CHECKOUT_SCOPE='request',
                                              POOL_TIMEOUT=0.3)) as wrapper:
        cursor = wrapper.cursor()
        backend_pid(cursor)
        assert wrapper.connection is not None
        assert 'PoolTimeout' in type(borrowed_elsewhere('whole')).__name__
        cursor.close()
        wrapper.close()
        assert pool_of(wrapper).stats()[stats.RETURNED_BETWEEN_STATEMENTS] == 0


def test_the_rows_of_a_statement_are_read_after_its_connection_went_back():
    with extra_alias('scoped', scoped_settings()) as wrapper:
        cursor = wrapper.cursor()
        cursor.execute('SELECT g, g * 10 FROM generate_series(1, 7) AS g')
        assert wrapper.connection is None
        assert cursor.rowcount == 7
        assert [column[0] for column in cursor.description] == ['g', '?column?']
        assert cursor.fetchone() == (1, 10)
        assert [tuple(row) for row in cursor.fetchmany(2)] == [(2, 20), (3, 30)]
        assert [tuple(row) for row in cursor.fetchall()] == [(4, 40), (5, 50), (6, 60), (7, 70)]
        assert cursor.fetchone() is None
        cursor.execute('SELECT g FROM generate_series(1, 3) AS g')
        assert [row[0] for row in cursor] == [1, 2, 3]
        cursor.close()


def test_a_closed_cursor_refuses_statements_after_its_connection_went_back():
    with extra_alias('scoped', scoped_settings()) as wrapper:
        cursor = wrapper.cursor()
        backend_pid(cursor)
        cursor.close()
        assert wrapper.connection is None
        with pytest.raises(Exception) as caught:
            # (Django 1.6-1.7 check out first, to ask about autocommit.)
            cursor.execute('SELECT 1')
        assert 'closed' in str(caught.value)


def test_an_open_cursor_reads_its_rows_before_another_cursors_statement_gives_the_connection_back():
    with extra_alias('scoped', scoped_settings()) as wrapper:
        first = wrapper.cursor()
        second = wrapper.cursor()
        # Inside a transaction nothing goes back: the first cursor's rows
        # are still the driver's when it ends.
        first.execute('BEGIN')
        first.execute('SELECT g FROM generate_series(1, 3) AS g')
        assert wrapper.connection is not None
        second.execute('COMMIT')
        assert wrapper.connection is None
        assert borrowed_elsewhere('scoped')  # the connection is another thread's meanwhile
        assert [row[0] for row in first.fetchall()] == [1, 2, 3]
        first.close()
        second.close()


@needs_atomic
def test_inside_atomic_the_connection_is_held_until_the_outermost_block_ends():
    from django.db import transaction
    with extra_alias('scoped', scoped_settings(POOL_TIMEOUT=0.3)) as wrapper:
        with transaction.atomic(using='scoped'):
            cursor = wrapper.cursor()
            mine = backend_pid(cursor)
            with transaction.atomic(using='scoped'):
                assert backend_pid(cursor) == mine
            assert wrapper.connection is not None
            assert 'PoolTimeout' in type(borrowed_elsewhere('scoped')).__name__
        assert wrapper.connection is None
        assert pool_of(wrapper).stats()[stats.CONNECTIONS_IN_USE] == 0
        assert borrowed_elsewhere('scoped') == mine


@needs_atomic
def test_on_commit_callbacks_run_and_may_query_after_the_block_gave_the_connection_back():
    from django.db import transaction
    seen = []
    with extra_alias('scoped', scoped_settings()) as wrapper:
        with transaction.atomic(using='scoped'):
            cursor = wrapper.cursor()
            backend_pid(cursor)
            if hasattr(transaction, 'on_commit'):  # 1.9+
                transaction.on_commit(lambda: seen.append(backend_pid(wrapper.cursor())),
                                      using='scoped')
        assert wrapper.connection is None
        assert len(seen) == (1 if hasattr(transaction, 'on_commit') else 0)


PINNING = [
    ("SET statement_timeout = '7s'", 'SHOW statement_timeout', '7s'),
    ("SELECT set_config('work_mem', '7MB', false)", 'SHOW work_mem', '7MB'),
    ('SELECT pg_advisory_lock(7007)',
     "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7007 "
     "AND pid = pg_backend_pid()", 1),
    ('LISTEN dbpool_scope', "SELECT count(*) FROM pg_listening_channels()", 1),
    ('CREATE TEMP TABLE scope_temp AS SELECT 1 AS x', 'SELECT count(*) FROM scope_temp', 1),
    ('PREPARE scope_plan AS SELECT 7', 'EXECUTE scope_plan', 7),
    ('DECLARE scope_held CURSOR WITH HOLD FOR SELECT 7', 'FETCH 1 FROM scope_held', 7),
]


@pytest.mark.parametrize('statement, check, expected', PINNING,
                         ids=[case[0].split()[0] + '-' + case[0].split()[1] for case in PINNING])
def test_a_statement_that_changes_the_session_pins_the_connection_to_its_borrower(
        statement, check, expected):
    with extra_alias('scoped', scoped_settings(POOL_TIMEOUT=0.3)) as wrapper:
        cursor = wrapper.cursor()
        mine = backend_pid(cursor)
        cursor.execute(statement)
        assert wrapper.connection is not None
        assert 'PoolTimeout' in type(borrowed_elsewhere('scoped')).__name__
        cursor.execute(check)
        assert cursor.fetchone()[0] == expected
        assert backend_pid(cursor) == mine
        cursor.close()
        assert wrapper.connection is not None
        wrapper.close()  # the request's end: reset as usual
        pool = pool_of(wrapper)
        assert pool.stats()[stats.PINNED] == 1
        cursor = wrapper.cursor()
        assert backend_pid(cursor) == mine
        try:
            cursor.execute(check)
            row = cursor.fetchone()
        except Exception:
            row = None  # the temp table, the plan or the cursor is gone
        assert row is None or row[0] != expected
        cursor.close()
        wrapper.close()


def test_a_cursor_made_on_the_driver_connection_pins_it():
    with extra_alias('scoped', scoped_settings()) as wrapper:
        cursor = wrapper.cursor()  # checks out; no statement yet
        raw = wrapper.connection.cursor()
        raw.execute('SELECT pg_backend_pid()')
        mine = raw.fetchone()[0]
        assert backend_pid(cursor) == mine
        assert wrapper.connection is not None
        raw.execute('SELECT pg_backend_pid()')
        assert raw.fetchone()[0] == mine
        raw.close()
        cursor.close()
        wrapper.close()
        assert pool_of(wrapper).stats()[stats.PINNED] == 1


def make_read_only(raw):
    if hasattr(raw, 'set_session'):  # psycopg2
        raw.set_session(readonly=True)
    else:
        raw.read_only = True


def read_only(raw):
    return raw.readonly if hasattr(raw, 'set_session') else raw.read_only


def test_a_change_to_the_driver_connection_pins_it_and_ends_with_the_request():
    with extra_alias('scoped', scoped_settings()) as wrapper:
        connect(wrapper)
        make_read_only(wrapper.connection)
        cursor = wrapper.cursor()
        mine = backend_pid(cursor)
        assert wrapper.connection is not None
        assert backend_pid(cursor) == mine
        cursor.close()
        wrapper.close()
        assert pool_of(wrapper).stats()[stats.PINNED] == 1
        connect(wrapper)
        assert not read_only(wrapper.connection)  # put back at the request's end
        cursor = wrapper.cursor()
        assert backend_pid(cursor) == mine
        cursor.execute('SHOW transaction_read_only')
        assert cursor.fetchone()[0] == 'off'
        cursor.close()


def test_pin_keeps_the_connection_to_the_end_of_the_request():
    from dbpool.db.scope import pin
    with extra_alias('scoped', scoped_settings()) as wrapper:
        pin(wrapper)
        raw = wrapper.connection
        cursor = wrapper.cursor()
        backend_pid(cursor)
        cursor.close()
        assert wrapper.connection is raw
        wrapper.close()
        assert wrapper.connection is None
        assert pool_of(wrapper).stats()[stats.PINNED] == 1


def test_the_driver_cursor_under_djangos_cursor_pins_the_connection():
    with extra_alias('scoped', scoped_settings()) as wrapper:
        cursor = wrapper.cursor()
        driver_cursor = cursor.cursor
        mine = backend_pid(cursor)
        assert wrapper.connection is not None
        driver_cursor.execute('SELECT pg_backend_pid()')
        assert driver_cursor.fetchone()[0] == mine
        cursor.close()
        wrapper.close()


@pytest.mark.skipif(not hasattr(connections['default'], 'chunked_cursor'),
                    reason='server-side cursors for iterator() arrived in Django 1.11')
def test_an_open_server_side_cursor_holds_the_connection_until_it_closes():
    with extra_alias('scoped', scoped_settings()) as wrapper:
        chunked = wrapper.chunked_cursor()
        chunked.execute('SELECT g FROM generate_series(1, 5) AS g')
        assert chunked.fetchone()[0] == 1
        other = wrapper.cursor()
        backend_pid(other)
        assert wrapper.connection is not None  # the named cursor lives in the session
        assert [row[0] for row in chunked.fetchall()] == [2, 3, 4, 5]
        chunked.close()
        backend_pid(other)
        assert wrapper.connection is None
        other.close()


def test_slow_views_in_32_threads_share_4_connections():
    from tests.support import Admin
    admin = Admin()
    alias_settings = scoped_settings('dbpool-slowviews', MAX_CONNS=4, POOL_TIMEOUT=10)
    done = []
    pools = set()
    try:
        with extra_alias('slowviews', alias_settings):
            def view():
                wrapper = connections['slowviews']
                try:
                    for _ in range(3):
                        cursor = wrapper.cursor()
                        cursor.execute('SELECT 1')
                        cursor.fetchone()
                        time.sleep(0.02)  # an external call
                        cursor.execute('SELECT 2')
                        cursor.fetchone()
                        cursor.close()
                        pools.add(pool_of(wrapper))
                        wrapper.close()
                        done.append(1)
                finally:
                    wrapper.close()

            # The first statement has the pool read which functions the
            # database calls implicitly; until then a data statement pins.
            view()
            peak, errors = run_threads_and_watch(admin, 'dbpool-slowviews', view, threads=32)
            assert errors == []
            pool, = pools
            assert len(done) == 99
            assert 1 <= peak <= 4
            assert pool.stats()[stats.PINNED] == 0
    finally:
        admin.close()


def test_a_slow_view_that_would_starve_request_scope_does_not_starve_transaction_scope():
    # One connection, four threads each pausing 0.4 s between two
    # statements: in request scope the last waits about 1.2 s, past the
    # 0.8 s POOL_TIMEOUT; in transaction scope nobody waits for a pause.
    outcomes = {}
    for scope_name in ('request', 'transaction'):
        alias = 'starve_' + scope_name
        failures = []

        def view(alias=alias, failures=failures):
            wrapper = connections[alias]
            try:
                cursor = wrapper.cursor()
                cursor.execute('SELECT 1')
                time.sleep(0.4)
                cursor.execute('SELECT 2')
                cursor.close()
            except Exception as exc:
                failures.append(type(exc).__name__)
            finally:
                wrapper.close()

        with extra_alias(alias, scoped_settings('dbpool-' + alias, CHECKOUT_SCOPE=scope_name,
                                                POOL_TIMEOUT=0.8)):
            threads = [threading.Thread(target=view) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        outcomes[scope_name] = failures
    assert outcomes['transaction'] == []
    assert 'PoolTimeout' in outcomes['request']


def test_connection_checked_out_is_sent_at_every_borrow_of_a_request():
    from dbpool.db.signals import connection_checked_out
    seen = []

    def receiver(sender, connection, new, **kwargs):
        if connection.alias == 'scoped':
            seen.append(new)

    connection_checked_out.connect(receiver)
    try:
        with extra_alias('scoped', scoped_settings()) as wrapper:
            cursor = wrapper.cursor()
            for _ in range(3):
                backend_pid(cursor)
            cursor.close()
    finally:
        connection_checked_out.disconnect(receiver)
    assert seen == [True, False, False]


@pytest.mark.parametrize('options, named', [
    ({'CHECKOUT_SCOPE': 'statement'}, 'CHECKOUT_SCOPE'),
    ({'RESET_ON_RETURN': 'full'}, "RESET_ON_RETURN='auto'"),
])
def test_an_impossible_scope_is_refused_with_what_to_change(options, named):
    with extra_alias('badscope', scoped_settings(**options)) as wrapper:
        with pytest.raises(ImproperlyConfigured) as caught:
            wrapper.cursor()
    assert named in str(caught.value)
