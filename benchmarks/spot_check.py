"""The micro cycle on whatever Django and driver this Python has: a spot check for old releases.

    .tox/py27-dj111/bin/python benchmarks/spot_check.py
    .tox/py312-dj42-psycopg3/bin/python benchmarks/spot_check.py --rounds 5

The main harness (run.sh) runs Django 6.1 only. This one configures Django
in-process with three aliases, stock persistent (CONN_MAX_AGE=None),
dbpool's default and dbpool RESET_ON_RETURN='full', and times one borrow +
SELECT 1 + return (close_if_unusable_or_obsolete(), what request_finished
does) on each, in interleaved rounds. It prints microseconds per cycle
(best batch of each round, median of rounds) and the ratios to stock
persistent. Runs on Python 2.7 and 3. Starts a throwaway PostgreSQL unless
DATABASE_URL is set.
"""
from __future__ import absolute_import, division, print_function

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

ALIASES = (('persistent', 'stock persistent'), ('dbpool', 'dbpool (default)'),
           ('full', "dbpool RESET_ON_RETURN='full'"))
clock = getattr(time, 'perf_counter', time.time)


def configure(base):
    import django
    from django.conf import settings
    stock = ('django.db.backends.postgresql' if django.VERSION >= (1, 9)
             else 'django.db.backends.postgresql_psycopg2')
    databases = {
        'default': dict(base, ENGINE=stock),
        'persistent': dict(base, ENGINE=stock, CONN_MAX_AGE=None),
        'dbpool': dict(base, ENGINE='dbpool.db.backends.postgresql',
                       OPTIONS={'MAX_CONNS': 1}),
        'full': dict(base, ENGINE='dbpool.db.backends.postgresql',
                     OPTIONS={'MAX_CONNS': 1, 'RESET_ON_RETURN': 'full'}),
    }
    settings.configure(DATABASES=databases, USE_TZ=True, TIME_ZONE='UTC',
                       INSTALLED_APPS=[], SECRET_KEY='spot-check')
    if hasattr(django, 'setup'):
        django.setup()


def cycles_per_batch(connection, seconds):
    """Microseconds per cycle, best of the batches run for ``seconds``."""
    best = None
    deadline = clock() + seconds
    while clock() < deadline:
        start = clock()
        for _ in range(200):
            cursor = connection.cursor()
            cursor.execute('SELECT 1')
            cursor.fetchone()
            cursor.close()
            connection.close_if_unusable_or_obsolete()
        took = (clock() - start) / 200 * 1e6
        best = took if best is None else min(best, took)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--seconds', type=float, default=2.0)
    args = parser.parse_args()
    from dbpool.testing.pgcluster import database_settings_from_env
    settings_dict, _ = database_settings_from_env()  # a new cluster goes at exit
    configure(settings_dict)
    import django
    from django.db import connections
    figures = dict((alias, []) for alias, _ in ALIASES)
    for alias, _ in ALIASES:
        cycles_per_batch(connections[alias], 0.3)  # warm up
    for number in range(args.rounds):
        order = ALIASES[number % len(ALIASES):] + ALIASES[:number % len(ALIASES)]
        for alias, _ in order:
            figures[alias].append(cycles_per_batch(connections[alias], args.seconds))
    driver = connections['dbpool'].Database
    print('Django %s, %s %s, Python %s: us per cycle (median of %d rounds), ratio'
          % (django.get_version(), driver.__name__, driver.__version__.split()[0],
             sys.version.split()[0], args.rounds))
    base = sorted(figures['persistent'])[len(figures['persistent']) // 2]
    for alias, label in ALIASES:
        median = sorted(figures[alias])[len(figures[alias]) // 2]
        print('  %-32s %7.1f  %.2fx' % (label, median, median / base))
    for alias, _ in ALIASES:
        connections[alias].close()


if __name__ == '__main__':
    main()
