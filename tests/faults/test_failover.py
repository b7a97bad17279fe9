"""Failover of a primary under a steady load of writes, on real servers.

A primary and its streaming standby on loopback (tests.standby_pair), named
by one multi-host HOST with target_session_attrs='read-write'. Threads
insert one row per request, through the pooled ENGINE or the core pool,
while the test stops the primary and promotes the standby, restarts the
old primary as a standby of the new one, then does the same the other way
round. Measured, and printed (pytest -s) for the README's reliability
table: requests failed during each switch, seconds until every request
succeeds again, writes refused by a read-only server (SQLSTATE 25006),
acknowledged commits missing from the final primary.
"""
from __future__ import absolute_import, division, print_function

import itertools
import os
import threading
import time
import uuid

import pytest
from django.db import connections, transaction

from dbpool import stats
from dbpool.options import parse_pool_options
from dbpool.pool import ConnectionPool
from dbpool.testing.replication import in_recovery
from tests.backends.djangocompat import HAS_ATOMIC, close_all, extra_alias
from tests.standby_pair import make_pair
from tests.support import available_drivers, connect_kwargs

READ_ONLY = '25006'  # read_only_sql_transaction: "cannot execute INSERT in a read-only transaction"
# The whole scenario (failover, the old primary rejoining, the switch back;
# the core pool; the fenced switchover under load) takes ~35 s: tox.ini
# runs it in three cells (DBPOOL_FAILOVER=full). The others run one
# failover through Django, and the checks' own tests.
FULL = os.environ.get('DBPOOL_FAILOVER') == 'full'
full_only = pytest.mark.skipif(
    not FULL, reason='the whole failover scenario runs where DBPOOL_FAILOVER=full (tox.ini)')
THREADS = 4
STEADY_S = 1.0       # a switch is over once every request succeeded for this long
SWITCH_LIMIT_S = 20.0


@pytest.fixture
def pair():
    """A private primary and standby (skipped without pg_basebackup and pg_rewind)."""
    pair = make_pair()
    pair.execute('CREATE TABLE failover_writes (id integer PRIMARY KEY)')
    yield pair
    pair.destroy()


def sqlstate(exc):
    """The SQLSTATE of a driver error, or of the one a Django error wraps."""
    for error in (exc, getattr(exc, '__cause__', None)):
        code = getattr(error, 'sqlstate', None) or getattr(error, 'pgcode', None)
        if code:
            return code
    # Django 1.3-1.5 re-raise query errors without the driver's.
    return READ_ONLY if 'read-only transaction' in str(exc) else None


class WriteLoad(object):
    """Threads that each insert one row per request and record how it went."""

    def __init__(self, write, threads=THREADS, pause=0.005):
        self._write = write
        self._ids = itertools.count(1)
        self._pause = pause
        self._running = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]
        self.acked = set()    # ids whose commit succeeded
        self.failures = []    # (started, ended, sqlstate, message)
        self.successes = []   # ended

    def __enter__(self):
        self._running.set()
        for thread in self._threads:
            thread.daemon = True
            thread.start()
        return self

    def __exit__(self, *exc_info):
        self._running.clear()
        for thread in self._threads:
            thread.join(30)
        assert not any(thread.is_alive() for thread in self._threads)

    def _run(self):
        try:
            while self._running.is_set():
                row_id = next(self._ids)
                started = time.time()
                try:
                    self._write(row_id)
                except Exception as exc:
                    self.failures.append((started, time.time(), sqlstate(exc),
                                          str(exc).strip().split('\n')[0]))
                else:
                    self.acked.add(row_id)
                    self.successes.append(time.time())
                time.sleep(self._pause)
        finally:
            close_all()

    def failed_since(self, since):
        return [failure for failure in self.failures if failure[1] >= since]

    def wait_steady(self, since):
        """Wait until every request has succeeded for STEADY_S; seconds from ``since`` to the last failure."""
        deadline = since + SWITCH_LIMIT_S
        while True:
            now = time.time()
            failed = self.failed_since(since)
            last = max([failure[1] for failure in failed] or [since])
            if now - last >= STEADY_S and sum(1 for t in self.successes if t > last) >= THREADS:
                return last - since
            assert now < deadline, 'requests still fail %.0f s after the switch: %s' % (
                SWITCH_LIMIT_S, failed[-3:])
            time.sleep(0.05)


def fail_over_and_back(pair, load):
    """The whole scenario under ``load``; a dict of what was measured."""
    figures = {}
    load.wait_steady(time.time())
    for name in ('failover', 'failback') if FULL else ('failover',):
        started = time.time()
        pair.fail_over()  # stop the primary, promote the standby
        promoted = time.time()
        figures[name + '_recovery_s'] = load.wait_steady(started)
        # How long requests still failed once the new primary took writes.
        figures[name + '_after_promotion_s'] = max(
            0.0, started + figures[name + '_recovery_s'] - promoted)
        figures[name + '_failed'] = len(load.failed_since(started))
        # The old primary comes back as a standby of the new one: the host
        # list still names it first, and it must not be written to.
        if not FULL:
            break
        started = time.time()
        pair.rejoin()
        assert in_recovery(pair.standby)
        load.wait_steady(started)
        figures[name + '_rejoin_failed'] = len(load.failed_since(started))
    return figures


def check_and_report(label, pair, load, figures, pool_stats):
    present = set(int(value) for value in pair.execute(
        "SELECT string_agg(id::text, ',') FROM failover_writes").split(',') if value)
    lost = load.acked - present
    refused = [failure for failure in load.failures if failure[2] == READ_ONLY]
    print('\nfailover %s: %d writes acknowledged; stop+promote: %d requests failed, every '
          'request succeeded again after %.2f s (%.2f s after the promotion); writes refused '
          'as read-only: %d; acknowledged commits lost: %d; connections discarded as '
          'read-only: %d; first errors: %s' % (
              label, len(load.acked), figures['failover_failed'], figures['failover_recovery_s'],
              figures['failover_after_promotion_s'], len(refused), len(lost),
              pool_stats['discarded_' + stats.DISCARD_READ_ONLY],
              sorted(set(failure[3][:70] for failure in load.failures))[:3]))
    if FULL:
        print('failover %s, then: old primary rejoining as a standby: %d failed; back: %d '
              'failed, %.2f s (%.2f s after the promotion); the other rejoining: %d failed' % (
                  label, figures['failover_rejoin_failed'], figures['failback_failed'],
                  figures['failback_recovery_s'], figures['failback_after_promotion_s'],
                  figures['failback_rejoin_failed']))
    assert len(load.acked) > 100
    assert refused == []
    assert lost == set()
    # Each switch is over within seconds, and the old primary coming back as
    # a standby costs no request.
    assert figures['failover_recovery_s'] < 10
    assert pool_stats[stats.CONNECTIONS_CREATED] >= 2  # new ones on the new primary
    if FULL:
        assert figures['failback_recovery_s'] < 10
        assert figures['failover_rejoin_failed'] == figures['failback_rejoin_failed'] == 0


# -- through the pooled ENGINE -------------------------------------------------

def test_writes_through_django_survive_a_failover_with_no_lost_commit(pair):
    # And the way back, where DBPOOL_FAILOVER is 'full'.
    settings_dict = dict(connections['default'].settings_dict, **pair.settings())
    settings_dict['OPTIONS'] = {
        'MAX_CONNS': THREADS, 'MIN_CONNS': 0, 'POOL_TIMEOUT': 5,
        'target_session_attrs': 'read-write', 'connect_timeout': 2,
        'application_name': 'dbpool-failover-%s' % uuid.uuid4().hex[:8]}
    with extra_alias('failover', settings_dict):
        def write(row_id):
            try:
                cursor = connections['failover'].cursor()
                cursor.execute('INSERT INTO failover_writes (id) VALUES (%s)', [row_id])
                cursor.close()
                if not HAS_ATOMIC:  # 1.3-1.5: not in autocommit
                    transaction.commit_unless_managed(using='failover')
            finally:
                connections['failover'].close()  # the end of the request

        with WriteLoad(write) as load:
            figures = fail_over_and_back(pair, load)
        check_and_report('Django, %s' % django_driver('failover'), pair, load, figures, pool_of('failover'))


# -- through the core pool ---------------------------------------------------

@full_only
@pytest.mark.parametrize('driver', available_drivers(), ids=lambda driver: driver.__name__)
def test_writes_through_the_core_pool_survive_a_failover_and_back_with_no_lost_commit(
        pair, driver):
    kwargs = connect_kwargs(pair.settings(), 'dbpool-failover-core')
    kwargs.update(target_session_attrs='read-write', connect_timeout=2)
    options = parse_pool_options({'MAX_CONNS': THREADS, 'MIN_CONNS': 0, 'POOL_TIMEOUT': 5,
                                  'target_session_attrs': 'read-write'}, 'the test')
    pool = ConnectionPool(lambda: driver.connect(**kwargs), options, name='failover pool')

    def write(row_id):
        entry = pool.checkout()
        try:
            cursor = entry.connection.cursor()
            cursor.execute('INSERT INTO failover_writes (id) VALUES (%s)', [row_id])
            cursor.close()
            entry.connection.commit()
        finally:
            pool.checkin(entry)

    try:
        with WriteLoad(write) as load:
            figures = fail_over_and_back(pair, load)
        check_and_report('core pool, %s' % driver.__name__, pair, load, figures, pool.stats())
    finally:
        pool.close()


# -- a primary fenced (read-only), not stopped ----------------------------------

def fenced_alias_settings(pair, **options):
    settings_dict = dict(connections['default'].settings_dict, **pair.settings())
    settings_dict['OPTIONS'] = dict({
        'MAX_CONNS': THREADS, 'MIN_CONNS': 0, 'POOL_TIMEOUT': 5,
        'target_session_attrs': 'read-write', 'connect_timeout': 2,
        'application_name': 'dbpool-fenced-%s' % uuid.uuid4().hex[:8]}, **options)
    return settings_dict


def django_write(alias):
    def write(row_id):
        try:
            cursor = connections[alias].cursor()
            cursor.execute('INSERT INTO failover_writes (id) VALUES (%s)', [row_id])
            cursor.close()
            if not HAS_ATOMIC:  # 1.3-1.5: not in autocommit
                transaction.commit_unless_managed(using=alias)
        finally:
            connections[alias].close()  # the end of the request
    return write


def django_driver(alias):
    """The driver module's name the alias uses (Django 1.3's wrapper does not say: psycopg2)."""
    database = getattr(connections[alias], 'Database', None)
    return database.__name__.split('.')[0] if database is not None else 'psycopg2'


def pool_of(alias):
    from dbpool import pool_stats
    found = [s for s in pool_stats() if s['alias'] == alias and not s['closed']]
    assert len(found) == 1, found
    return found[0]


def test_a_write_a_fenced_primary_refuses_closes_its_connection_at_the_end_of_the_request(pair):
    write = django_write('fenced')
    with extra_alias('fenced', fenced_alias_settings(pair, TEST_AFTER_IDLE=None)):
        write(1)
        assert pool_of('fenced')[stats.CONNECTIONS_IDLE] == 1
        pair.switch_over_fenced()
        # The idle session learns that its server is read-only from the
        # answer to its next statement: this write.
        with pytest.raises(Exception) as raised:
            write(2)
        assert sqlstate(raised.value) == READ_ONLY
        snapshot = pool_of('fenced')
        assert snapshot['discarded_' + stats.DISCARD_READ_ONLY] == 1
        assert snapshot[stats.CONNECTIONS_OPEN] == 0
        write(3)  # a new connection, on the new primary
        assert pair.execute("SELECT count(*) FROM failover_writes WHERE id = 3") == '1'


@full_only
def test_writes_through_django_move_to_a_new_primary_when_the_old_one_is_fenced_not_stopped(
        pair):
    with extra_alias('fenced', fenced_alias_settings(pair)):
        with WriteLoad(django_write('fenced')) as load:
            load.wait_steady(time.time())
            started = time.time()
            pair.switch_over_fenced()
            recovery_s = load.wait_steady(started)
        snapshot = pool_of('fenced')
        driver_name = django_driver('fenced')
    failed = load.failed_since(started)
    refused = [failure for failure in load.failures if failure[2] == READ_ONLY]
    present = set(int(value) for value in pair.execute(
        "SELECT string_agg(id::text, ',') FROM failover_writes").split(',') if value)
    lost = load.acked - present
    print('\nfenced switchover, Django, %s: %d writes acknowledged; %d requests failed, %d of '
          'them refused as read-only; every request succeeded again %.2f s after the fence; '
          'acknowledged commits lost: %d; connections discarded as read-only: %d' % (
              driver_name, len(load.acked), len(failed), len(refused),
              recovery_s, len(lost), snapshot['discarded_' + stats.DISCARD_READ_ONLY]))
    # At most one refused write per pooled connection: the one whose answer
    # told it the server is read-only.
    assert len(refused) <= THREADS
    assert snapshot['discarded_' + stats.DISCARD_READ_ONLY] >= len(refused)
    assert lost == set()
    assert recovery_s < 10
