"""How many connections the slow view needs: the smallest MAX_CONNS with p99 under 50 ms.

    benchmarks/.venv/bin/python benchmarks/slow_view_sizing.py [--driver pg3|pg2]
        [--p99-ms 50] [--threads 32] [--sizes 1,2,3,4,6,8,12,16,24,32]
        [--seconds 2] [--warmup 0.5] [--rounds 1] [--all] [--out FILE.json]

The load is compare.py's slow-view scenario (benchsite.views.slow: a query,
a 20 ms pause that releases the GIL, a query; 32 threads). For dbpool's
request scope (the default) and for CHECKOUT_SCOPE='transaction', it steps
MAX_CONNS up through ``--sizes``, one short worker run per size
(benchmarks/worker.py with BENCH_SIZES, peak server connections sampled as
compare.py does), and stops at the first size that meets both limits:
p99 under ``--p99-ms`` with no error, and p99 within ``--vs-persistent``
times stock persistent's (one connection per thread, measured first: what
no cap on connections can beat on this machine). ``--all`` runs every size.
Prints one table and the answer. A dbpool without CHECKOUT_SCOPE is
measured in request scope only. Starts a throwaway PostgreSQL unless
DATABASE_URL is set.
"""
from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT]

from compare import admin_connection, pythons, run_worker, worker_env  # noqa: E402
from dbpool.options import OPTION_NAMES  # noqa: E402
from dbpool.testing.pgcluster import PgCluster  # noqa: E402
from modes import BY_NAME, SLOW_PAUSE_S  # noqa: E402
import report  # noqa: E402

SIZES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
SCOPES = (('request scope', 'dbpool-'), ('transaction scope', 'dbpool-tx-'))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--driver', choices=('pg3', 'pg2'), default='pg3')
    parser.add_argument('--p99-ms', type=float, default=50.0)
    parser.add_argument('--vs-persistent', type=float, default=1.10,
                        help="p99 at most this times stock persistent's (default 1.10)")
    parser.add_argument('--threads', type=int, default=32)
    parser.add_argument('--sizes', default=','.join(str(size) for size in SIZES))
    parser.add_argument('--seconds', type=float, default=2.0, help='measured s per size')
    parser.add_argument('--warmup', type=float, default=0.5)
    parser.add_argument('--rounds', type=int, default=1, help='runs per size (medians)')
    parser.add_argument('--all', action='store_true', help='run every size')
    parser.add_argument('--out', help='write every measurement as JSON here')
    parser.add_argument('--python', help='Python of the main venv (default: this one)')
    parser.add_argument('--python-pgpool2', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def measure(python, url, admin, mode, threads, connections, args):
    """The slow view on ``connections`` connections: compare.py's summary of ``args.rounds``."""
    extra = ['--scenarios', 'slow', '--warmup', str(args.warmup), '--seconds', str(args.seconds)]
    env = {'BENCH_SIZES': 'slow=%d/%d' % (threads, connections)}
    runs = [run_worker(python, url, mode, extra, admin, env)['slow'] for _ in range(args.rounds)]
    summary = report._load_summary(runs)
    summary['connections'] = connections
    return summary


def row(label, r):
    return '| %s | %d | %.0f | %.1f | %.1f | %d/%d | %d | %d |' % (
        label, r['connections'], r['requests_per_s'], r['p50_ms'], r['p99_ms'],
        r['starved_threads'], r['threads'], r['errors'], r['peak_connections'])


def main(argv=None):
    args = parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(',')]
    python = pythons(args)['main']
    scopes = []
    for label, prefix in SCOPES:
        mode = BY_NAME[prefix + args.driver]
        missing = mode.missing_options(OPTION_NAMES)
        if missing:
            print('%s skipped: this dbpool has no OPTIONS %s' % (label, ', '.join(missing)))
        else:
            scopes.append((label, mode))
    cluster = None
    url = os.environ.get('DATABASE_URL')
    if not url:
        cluster = PgCluster().start()
        url = cluster.url()
    found = {}
    try:
        subprocess.check_call([python, os.path.join(HERE, 'worker.py'), '--setup'],
                              env=worker_env(url, BY_NAME['persistent-pg3']))
        admin = admin_connection(url)
        print('Slow view (a query, %.0f ms pause, a query), %d threads, %s; %d round(s) of '
              '%.1f s per size after %.1f s of warm-up' % (
                  SLOW_PAUSE_S * 1e3, args.threads, BY_NAME['dbpool-' + args.driver].driver,
                  args.rounds, args.seconds, args.warmup))
        print()
        print('| mode | MAX_CONNS | req/s | p50 ms | p99 ms | starved threads | errors '
              '| peak conns |')
        print('|---|---:|---:|---:|---:|---:|---:|---:|')
        reference = measure(python, url, admin, BY_NAME['persistent-' + args.driver],
                            args.threads, args.threads, args)
        print(row('stock persistent (no cap)', reference))
        sys.stdout.flush()
        limit = min(args.p99_ms, reference['p99_ms'] * args.vs_persistent)
        for label, mode in scopes:
            found[label] = {'runs': [], 'under_p99_ms': None, 'near_persistent': None}
            for size in sizes:
                r = measure(python, url, admin, mode, args.threads, size, args)
                found[label]['runs'].append(r)
                print(row(label, r))
                sys.stdout.flush()
                if r['errors']:
                    continue
                if found[label]['under_p99_ms'] is None and r['p99_ms'] < args.p99_ms:
                    found[label]['under_p99_ms'] = size
                if (found[label]['near_persistent'] is None
                        and r['p99_ms'] <= reference['p99_ms'] * args.vs_persistent):
                    found[label]['near_persistent'] = size
                if r['p99_ms'] <= limit and not args.all:
                    break
        admin.close()
    finally:
        if cluster is not None:
            cluster.destroy()
    print()
    for label, _ in scopes:
        print('%-18s smallest MAX_CONNS with p99 < %.0f ms: %s; with p99 <= %.2fx stock '
              'persistent (%.1f ms): %s' % (
                  label, args.p99_ms, _answer(found[label]['under_p99_ms'], sizes),
                  args.vs_persistent, reference['p99_ms'] * args.vs_persistent,
                  _answer(found[label]['near_persistent'], sizes)))
    if reference['p99_ms'] >= args.p99_ms:
        print('Stock persistent, one connection per thread, has p99 %.1f ms itself: %d '
              'threads in one process are more than this machine serves within %.0f ms, '
              'whatever the pool (try --threads or --p99-ms).'
              % (reference['p99_ms'], args.threads, args.p99_ms))
    if args.out:
        with open(args.out, 'w') as out:
            json.dump({'reference': reference, 'scopes': found, 'threads': args.threads,
                       'p99_ms': args.p99_ms, 'vs_persistent': args.vs_persistent,
                       'seconds': args.seconds, 'rounds': args.rounds}, out, indent=1,
                      sort_keys=True)
    return 0


def _answer(size, sizes):
    return str(size) if size is not None else 'none up to %d' % max(sizes)


if __name__ == '__main__':
    sys.exit(main())
