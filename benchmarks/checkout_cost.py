"""Cost of one checkout + checkin, and of the reset, next to one SELECT 1 round trip.

Every figure comes from the same run, interleaved in rounds, so the ratios
hold on a noisy machine even when the absolute numbers drift:

    python benchmarks/checkout_cost.py [--rounds 7] [--cycles 2000]

Uses DATABASE_URL when set, else a throwaway PostgreSQL.
"""
from __future__ import absolute_import, division, print_function

import argparse
import os
import sys
import timeit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dbpool.options import parse_pool_options  # noqa: E402
from dbpool.pool import ConnectionPool  # noqa: E402
from dbpool.testing.pgcluster import database_settings_from_env  # noqa: E402


def driver():
    try:
        import psycopg as module
    except ImportError:
        import psycopg2 as module
    return module


def make_pool(connect, policy, time_zone):
    options = parse_pool_options({'MAX_CONNS': 1, 'RESET_ON_RETURN': policy}, 'benchmark')
    # The server's own default zone: the full reset is then one DISCARD ALL.
    return ConnectionPool(connect, options, time_zone=time_zone)


def select_one(connection):
    cursor = connection.cursor()
    cursor.execute('SELECT 1')
    cursor.fetchone()
    cursor.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=7)
    parser.add_argument('--cycles', type=int, default=2000)
    args = parser.parse_args()
    settings_dict, cluster = database_settings_from_env()
    module = driver()

    def connect():
        connection = module.connect(dbname=settings_dict['NAME'], user=settings_dict['USER'],
                                    password=settings_dict['PASSWORD'],
                                    host=settings_dict['HOST'], port=settings_dict['PORT'])
        connection.autocommit = True
        return connection

    raw = connect()
    server_zone = raw.info.parameter_status('TimeZone')
    pools = {'rollback': make_pool(connect, 'rollback', server_zone),
             'full': make_pool(connect, 'full', server_zone),
             'full, spelt out': make_pool(connect, 'full', 'Asia/Tokyo')}

    def cycle(pool):
        entry = pool.checkout()
        select_one(entry.connection)
        pool.checkin(entry)

    def bare_cycle(pool):
        pool.checkin(pool.checkout())

    cases = [
        ('SELECT 1 on a held connection', lambda: select_one(raw)),
        ("checkout + checkin, no query, RESET_ON_RETURN='rollback'",
         lambda: bare_cycle(pools['rollback'])),
        ("checkout + SELECT 1 + checkin, RESET_ON_RETURN='rollback'",
         lambda: cycle(pools['rollback'])),
        ("checkout + SELECT 1 + checkin, RESET_ON_RETURN='full'", lambda: cycle(pools['full'])),
        ("  the same when Django's zone is not the server's default",
         lambda: cycle(pools['full, spelt out'])),
    ]
    best = dict((name, float('inf')) for name, _ in cases)
    for _ in range(args.rounds):
        for name, function in cases:
            function()  # warm
            per_cycle = timeit.timeit(function, number=args.cycles) / args.cycles
            best[name] = min(best[name], per_cycle)
    base = best[cases[0][0]]
    print('driver %s, %d rounds x %d cycles, best round per case' % (
        module.__name__, args.rounds, args.cycles))
    for name, _ in cases:
        print('%-60s %8.1f us  %5.2fx SELECT 1' % (name, best[name] * 1e6, best[name] / base))
    reset_cost = best[cases[3][0]] - best[cases[2][0]]
    print('full reset alone (difference of the two cycles): %.1f us (%.2fx SELECT 1)' % (
        reset_cost * 1e6, reset_cost / base))
    for pool in pools.values():
        pool.close()
    raw.close()
    if cluster is not None:
        cluster.destroy()


if __name__ == '__main__':
    main()
