"""Statistics export and connection signals as a Django project sees them."""
from __future__ import absolute_import, division, print_function

import contextlib
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.backends.signals import connection_created

from dbpool import registry
from dbpool.db import signals

from tests.backends.djangocompat import connect, extra_alias

EXPORTED = []


def record_stats(alias, snapshot):
    """A STATS_CALLBACK named by its dotted path in the tests' OPTIONS."""
    EXPORTED.append((alias, snapshot))


def full_settings(**options):
    return dict(connections['default'].settings_dict, OPTIONS=options)


def test_a_dotted_path_stats_callback_receives_the_alias_and_its_statistics():
    del EXPORTED[:]
    settings_dict = full_settings(
        MAX_CONNS=1, STATS_CALLBACK='tests.backends.test_observability.record_stats',
        STATS_INTERVAL=0.001)
    with extra_alias('exported', settings_dict) as wrapper:
        connect(wrapper)
        wrapper.close()
        pool = [p for p in registry.all_pools() if p.label == 'exported'][0]
        pool.run_housekeeping()
        time.sleep(0.01)
        pool.run_housekeeping()
    exported = [(alias, snapshot) for alias, snapshot in EXPORTED if alias == 'exported']
    assert exported
    assert exported[-1][1]['checkouts'] >= 1
    assert exported[-1][1]['max_conns'] == 1


def test_a_stats_callback_that_cannot_be_imported_is_improperly_configured():
    settings_dict = full_settings(MAX_CONNS=1, STATS_CALLBACK='tests.nowhere.record')
    with extra_alias('unexported', settings_dict) as wrapper:
        with pytest.raises(ImproperlyConfigured) as raised:
            connect(wrapper)
    assert "STATS_CALLBACK='tests.nowhere.record'" in str(raised.value)


@contextlib.contextmanager
def receiving(signal, receiver):
    signal.connect(receiver)
    try:
        yield
    finally:
        signal.disconnect(receiver)


def one(wrapper, sql):
    cursor = wrapper.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchone()[0]
    finally:
        cursor.close()


def test_connection_created_is_sent_once_per_physical_connection():
    created = []

    def count(sender, connection, **kwargs):
        if connection.alias == 'once':
            created.append(one(connection, 'SELECT pg_backend_pid()'))

    with receiving(connection_created, count):
        with extra_alias('once', full_settings(MAX_CONNS=1)) as wrapper:
            pids = []
            for _ in range(3):
                pids.append(one(wrapper, 'SELECT pg_backend_pid()'))
                wrapper.close()
            registry.close_pools(lambda pool: pool.label == 'once')
            pids.append(one(wrapper, 'SELECT pg_backend_pid()'))
            wrapper.close()
    assert pids[0] == pids[1] == pids[2] != pids[3]
    assert created == [pids[0], pids[3]]


def test_connection_checked_out_is_sent_at_every_checkout_and_says_which_are_new():
    seen = []

    def record(sender, connection, new, **kwargs):
        if connection.alias == 'borrowed':
            seen.append(new)

    with receiving(signals.connection_checked_out, record):
        with extra_alias('borrowed', full_settings(MAX_CONNS=1)) as wrapper:
            for _ in range(3):
                connect(wrapper)
                wrapper.close()
    assert seen == [True, False, False]


def test_settings_made_by_connection_created_receivers_survive_the_full_reset():
    def set_up(sender, connection, **kwargs):
        if connection.alias == 'sessions':
            cursor = connection.cursor()
            cursor.execute("SET statement_timeout = '4321ms'")
            cursor.execute('SET search_path = pg_catalog, public')
            cursor.close()

    seen = []
    with receiving(connection_created, set_up):
        with extra_alias('sessions', full_settings(MAX_CONNS=1)) as wrapper:
            for _ in range(3):
                seen.append((one(wrapper, 'SELECT pg_backend_pid()'),
                             one(wrapper, 'SHOW statement_timeout'),
                             one(wrapper, 'SHOW search_path'),
                             one(wrapper, 'SHOW work_mem')))
                # The borrower's own setting is cleared by the reset.
                cursor = wrapper.cursor()
                cursor.execute("SET work_mem = '7MB'")
                cursor.close()
                wrapper.close()
    assert len(set(row[0] for row in seen)) == 1  # one physical connection, reused
    assert set(row[1:3] for row in seen) == set([('4321ms', 'pg_catalog, public')])
    assert '7MB' not in [row[3] for row in seen]


def test_without_connection_created_receivers_the_reset_stays_one_discard_all():
    with extra_alias('plain', full_settings(MAX_CONNS=1)) as wrapper:
        connect(wrapper)
        entry = wrapper._dbpool_entry
        wrapper.close()
    assert entry.reset_sql is None
