"""Profile the micro-benchmark's cycle (borrow + SELECT 1 + return) in one mode.

    benchmarks/.venv/bin/python benchmarks/profile_cycle.py MODE [--cycles 5000]

Starts a throwaway PostgreSQL unless DATABASE_URL is set, runs the cycle
under cProfile on the ``s1`` alias and prints the functions by own time.
"""
from __future__ import absolute_import, division, print_function

import argparse
import cProfile
import os
import pstats
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT, os.path.join(ROOT, 'testprojects', 'modern')]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('mode')
    parser.add_argument('--cycles', type=int, default=5000)
    parser.add_argument('--sort', default='tottime')
    parser.add_argument('--limit', type=int, default=35)
    parser.add_argument('--callers', help='also print who calls the functions matching this pattern')
    args = parser.parse_args()
    if not os.environ.get('DATABASE_URL'):
        from dbpool.testing.pgcluster import PgCluster
        cluster = PgCluster().start()
        os.environ['DATABASE_URL'] = cluster.url()
        import atexit
        atexit.register(cluster.destroy)
    os.environ['BENCH_MODE'] = args.mode
    import worker
    from modes import BY_NAME
    worker.set_up_django(BY_NAME[args.mode])
    from django.db import connections
    connection = connections['s1']

    def cycle():
        with connection.cursor() as cursor:
            cursor.execute('SELECT 1')
            cursor.fetchone()
        connection.close_if_unusable_or_obsolete()

    for _ in range(200):
        cycle()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.cycles):
        cycle()
    profiler.disable()
    connection.close()
    stats = pstats.Stats(profiler)
    stats.sort_stats(args.sort).print_stats(args.limit)
    if args.callers:
        stats.print_callers(args.callers)


if __name__ == '__main__':
    main()
