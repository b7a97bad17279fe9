"""Run the pool in a gevent-patched process and report what worked (for test_gevent.py).

Usage: python gevent_probe.py (psycogreen|plain); DATABASE_URL is the
server, DBPOOL_PROXY_PORT a FaultProxy in front of it that the test stalls
when this script says ``stall-now`` and answers with a line on stdin.
Prints one JSON object per line:

- ``housekeeper``: open connections after the background filler ran
  (MIN_CONNS=2, nothing checked out), i.e. the housekeeper greenlet ran;
- ``cooperation``: the most pg_sleep() queries of this process seen running
  at once by a third greenlet, while two greenlets each ran one;
- ``dead-borrower``: a greenlet ended holding a connection; the pool
  reclaimed it (its borrower token lives in a greenlet-local);
- ``stall-now``, then ``checkin``: the pool's reset of a connection behind
  the stalled proxy, cut by the watchdog greenlet after PING_TIMEOUT.
"""
from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

if sys.argv[1] == 'psycogreen':
    from psycogreen.gevent import patch_psycopg
    patch_psycopg()

import django  # noqa: E402
import gevent  # noqa: E402
from django.conf import settings  # noqa: E402

from dbpool.testing.pgcluster import parse_database_url  # noqa: E402

APP = 'dbpool-gevent-%d' % os.getpid()
ENGINE = 'dbpool.db.backends.postgresql'


def alias(port=None, **options):
    target = dict(parse_database_url(os.environ['DATABASE_URL']), ENGINE=ENGINE)
    if port is not None:
        target['PORT'] = port
    target['OPTIONS'] = dict(options, application_name=APP, PING_TIMEOUT=1)
    return target


settings.configure(
    DATABASES={
        'default': alias(MAX_CONNS=3, MIN_CONNS=2),
        # 'full': the checkin sends the reset, which the stalled proxy holds.
        'stalled': alias(os.environ['DBPOOL_PROXY_PORT'], MAX_CONNS=1, MIN_CONNS=0,
                         RESET_ON_RETURN='full', connect_timeout=2),
    },
    USE_TZ=True, TIME_ZONE='UTC', INSTALLED_APPS=[])
django.setup()

import dbpool  # noqa: E402
from django.db import connections  # noqa: E402


def say(**fields):
    sys.stdout.write(json.dumps(fields) + '\n')
    sys.stdout.flush()


def query(alias_name, sql):
    with connections[alias_name].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def stats(alias_name):
    return [pool for pool in dbpool.pool_stats() if pool['alias'] == alias_name][0]


def in_greenlet(function, *args):
    """Run ``function`` in a greenlet of its own, which gives its connection back."""
    def run():
        try:
            return function(*args)
        finally:
            connections.close_all()
    return gevent.spawn(run)


def housekeeper():
    in_greenlet(query, 'default', 'SELECT 1').get()
    for _ in range(200):
        if stats('default')['connections_open'] >= 2:
            break
        gevent.sleep(0.05)
    say(step='housekeeper', connections_open=stats('default')['connections_open'])


def cooperation():
    sleepers = [in_greenlet(query, 'default', 'SELECT pg_sleep(1)') for _ in range(2)]
    seen = [0]

    def watch():
        while not all(sleeper.ready() for sleeper in sleepers):
            rows = query('default', "SELECT count(*) FROM pg_stat_activity WHERE "
                                    "application_name = '%s' AND state = 'active' AND "
                                    "query LIKE 'SELECT pg_sleep%%'" % APP)
            seen[0] = max(seen[0], rows[0][0])
            gevent.sleep(0.02)

    in_greenlet(watch).get()
    gevent.joinall(sleepers, raise_error=True)
    say(step='cooperation', most_at_once=seen[0])


def dead_borrower():
    """A greenlet that ends without giving its connection back: reclaimed."""
    def borrow_and_forget():
        query('default', 'SELECT 1')  # no close(): the greenlet just ends

    before = stats('default')['discarded_leaked']
    gevent.spawn(borrow_and_forget).get()
    for _ in range(200):
        if stats('default')['discarded_leaked'] > before:
            break
        gevent.sleep(0.05)
    pool = stats('default')
    say(step='dead-borrower', discarded_leaked=pool['discarded_leaked'] - before,
        connections_in_use=pool['connections_in_use'])


def stalled_checkin():
    def borrow_and_return():
        query('stalled', 'SELECT 1')
        say(step='stall-now')
        sys.stdin.readline()  # the test stalled the proxy
        connections['stalled'].close()  # the reset runs under PING_TIMEOUT

    in_greenlet(borrow_and_return).get()
    pool = stats('stalled')
    say(step='checkin', discarded_reset_failed=pool['discarded_reset_failed'],
        connections_in_use=pool['connections_in_use'])


housekeeper()
cooperation()
dead_borrower()
stalled_checkin()
