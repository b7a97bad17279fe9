"""The pooled ENGINE behind a real PgBouncer, in session and in transaction mode.

Each test starts its own pgbouncer (Debian's, installed by scripts/lib.sh's
ensure_pgbouncer) on a free loopback port in front of the server under test
and stops it at the end. The settings each mode needs are in
docs/pgbouncer.md; the last tests show what goes wrong without them.
"""
from __future__ import absolute_import, division, print_function

import threading

import django
import pytest

from tests.backends.conftest import admin, configure_django, fresh_pools  # noqa: F401
from tests.integration.pgbouncer import PgBouncer, find_pgbouncer
from tests.integration.required import need
from tests.support import Admin, database

configure_django()

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connections, transaction  # noqa: E402

import dbpool  # noqa: E402
from tests.backends.djangocompat import extra_alias  # noqa: E402

MAX_CONNS = 4
ALIAS = 'bouncer'
DB_NAME = 'dbpool_bouncer'  # a database of the tests' own, behind PgBouncer

pytestmark = pytest.mark.skipif(
    django.VERSION[:2] < (1, 11),
    reason='DISABLE_SERVER_SIDE_CURSORS and server-side iterator() arrived in Django 1.11')

# What docs/pgbouncer.md recommends for each pool_mode.
RECOMMENDED = {
    'session': ({}, {}),
    'transaction': ({'RESET_ON_RETURN': 'rollback'}, {'DISABLE_SERVER_SIDE_CURSORS': True}),
}


@pytest.fixture
def bouncer(request):
    need('pgbouncer', None if find_pgbouncer() else
         'the pgbouncer program is not installed (scripts/lib.sh ensure_pgbouncer)')
    bouncer = PgBouncer(dict(database(), NAME=DB_NAME), request.param).start()
    yield bouncer
    bouncer.stop()


@pytest.fixture
def table():
    """A database of our own with django_content_type, for ORM queries."""
    server = Admin()
    server.query('DROP DATABASE IF EXISTS %s' % DB_NAME)
    server.query('CREATE DATABASE %s' % DB_NAME)
    owner = Admin(dict(database(), NAME=DB_NAME))
    try:
        owner.query('CREATE TABLE django_content_type (id serial PRIMARY KEY, '
                    'app_label varchar(100) NOT NULL, model varchar(100) NOT NULL, '
                    'UNIQUE (app_label, model))')
        yield owner
    finally:
        owner.close()
        server.query('DROP DATABASE IF EXISTS %s' % DB_NAME)
        server.close()


def bouncer_alias(bouncer, options=None, **settings):
    """A DATABASES alias on our ENGINE that connects through ``bouncer``."""
    pool_options, django_settings = RECOMMENDED[bouncer.pool_mode]
    settings_dict = dict(bouncer.settings(), ENGINE='dbpool.db.backends.postgresql',
                         OPTIONS=dict(pool_options, MAX_CONNS=MAX_CONNS, MIN_CONNS=0,
                                      POOL_TIMEOUT=10, **(options or {})))
    # What Django's ensure_defaults() would add; other threads build their
    # wrappers from this dict too.
    settings_dict.update(TIME_ZONE=None, CONN_MAX_AGE=0, CONN_HEALTH_CHECKS=False,
                         ATOMIC_REQUESTS=False, AUTOCOMMIT=True, TEST={})
    settings_dict.update(django_settings)
    settings_dict.update(settings)
    return extra_alias(ALIAS, settings_dict)


def types():
    return ContentType.objects.using(ALIAS)


def pool_stats():
    return [s for s in dbpool.pool_stats() if s['alias'] == ALIAS]


both_modes = pytest.mark.parametrize('bouncer', ['session', 'transaction'], indirect=True)


@both_modes
def test_threads_run_orm_queries_and_transactions_through_the_pool(table, bouncer):
    errors = []

    def work(number):
        try:
            for step in range(10):
                with transaction.atomic(using=ALIAS):
                    types().create(app_label='t%d' % number, model='m%d' % step)
                    assert types().filter(app_label='t%d' % number).count() == step + 1
                connections[ALIAS].close()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections[ALIAS].close()

    with bouncer_alias(bouncer):
        threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert types().count() == 120
        stats = pool_stats()
    assert len(stats) == 1
    assert stats[0]['checkouts'] >= 120
    assert stats[0]['connections_created'] <= MAX_CONNS
    assert stats[0]['discarded_reset_failed'] == 0


@both_modes
def test_atomic_commits_rolls_back_and_nests(table, bouncer):
    with bouncer_alias(bouncer):
        with transaction.atomic(using=ALIAS):
            types().create(app_label='kept', model='outer')
            try:
                with transaction.atomic(using=ALIAS):  # a savepoint
                    types().create(app_label='gone', model='inner')
                    raise ValueError('roll the savepoint back')
            except ValueError:
                pass
        try:
            with transaction.atomic(using=ALIAS):
                types().create(app_label='gone', model='outer')
                raise ValueError('roll everything back')
        except ValueError:
            pass
        connections[ALIAS].close()
        assert sorted(types().values_list('app_label', 'model')) == [('kept', 'outer')]


@both_modes
def test_iterator_streams_every_row(table, bouncer):
    # Transaction mode: with DISABLE_SERVER_SIDE_CURSORS (recommended), a
    # plain cursor. Session mode: a server-side cursor, as without PgBouncer.
    table.query("INSERT INTO django_content_type (app_label, model) "
                "SELECT 'a', 'm' || n FROM generate_series(1, 2500) AS n")
    with bouncer_alias(bouncer):
        seen = sum(1 for _ in types().iterator())
        connections[ALIAS].close()
    assert seen == 2500


@pytest.mark.parametrize('bouncer', ['transaction'], indirect=True)
@pytest.mark.parametrize('policy', ['auto', 'full', 'rollback'])
def test_the_reset_on_return_keeps_transaction_mode_working(table, bouncer, policy):
    # The full reset (DISCARD ALL) reaches whichever server connection
    # PgBouncer picks for it; it must neither fail nor disturb the others.
    # 'auto' sends it only when needed (here never: plain inserts).
    with bouncer_alias(bouncer, {'RESET_ON_RETURN': policy}):
        for step in range(20):
            with transaction.atomic(using=ALIAS):
                types().create(app_label='r', model='m%d' % step)
            connections[ALIAS].close()
        assert types().filter(app_label='r').count() == 20
        connections[ALIAS].close()
        stats = pool_stats()
    assert stats[0]['resets'] + stats[0]['resets_skipped'] >= 20
    if policy == 'auto':
        assert stats[0]['resets'] == 0
    assert stats[0]['discarded_reset_failed'] == 0
    assert stats[0]['connections_created'] == 1


def _hold_the_cursor_server(bouncer):
    """Open transactions through PgBouncer until one holds the server that ran DECLARE.

    Returns the admin connections to keep open (PgBouncer then has to give
    the next statement of the cursor's client another server connection).
    """
    direct = Admin()
    try:
        rows = direct.query("SELECT pid FROM pg_stat_activity WHERE query LIKE 'DECLARE%%' "
                            "OR query LIKE 'FETCH%%'")
    finally:
        direct.close()
    assert len(rows) == 1, rows
    cursor_pid = rows[0][0]
    holders = []
    for _ in range(2):  # the pool has 2 server connections
        holder = Admin(bouncer.settings())
        holder.connection.autocommit = False
        holders.append((holder, holder.query('SELECT pg_backend_pid()')[0][0]))
    for holder, pid in holders:
        if pid != cursor_pid:
            holder.connection.rollback()  # frees the other server connection
    return [holder for holder, _ in holders]


@pytest.mark.parametrize('bouncer', ['transaction'], indirect=True)
def test_without_disable_server_side_cursors_iterator_fails_in_transaction_mode(table, bouncer):
    # The failure mode docs/pgbouncer.md warns about, made deterministic: the
    # WITH HOLD cursor lives on one server connection, and the next FETCH
    # goes to another one.
    bouncer.stop()
    bouncer.pool_size = 2
    bouncer.start()
    table.query("INSERT INTO django_content_type (app_label, model) "
                "SELECT 'a', 'm' || n FROM generate_series(1, 300) AS n")
    holders = []
    with bouncer_alias(bouncer, DISABLE_SERVER_SIDE_CURSORS=False):
        rows = types().iterator(chunk_size=100) if django.VERSION >= (2, 0) else types().iterator()
        try:
            next(rows)  # DECLARE ... WITH HOLD, then the first FETCH
            holders = _hold_the_cursor_server(bouncer)
            # Django wraps it as ProgrammingError; psycopg 3 raises its own
            # InvalidCursorName again when Django closes the cursor.
            with pytest.raises(Exception) as failure:
                for _ in rows:
                    pass
            assert 'does not exist' in str(failure.value)
        finally:
            for holder in holders:
                holder.close()
            connections[ALIAS].close()
