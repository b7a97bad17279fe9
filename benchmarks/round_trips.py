"""Round trips per request of each mode, counted on the wire, not timed.

    benchmarks/.venv/bin/python benchmarks/round_trips.py [--modes a,b] [--requests 200]

For each mode a worker process (benchmarks/worker.py's Django set-up, the
sample project's WSGI handler, one thread) talks to PostgreSQL through
tests/proxy.py's counting proxy, which reads the protocol and counts the
messages the server answers (Query, and Sync for the extended protocol).
After a warm-up (the first connection, Django's set-up, the pool's first
catalog read) it serves ``--requests`` requests of the one-query view on
the s1 alias, as many realistic pages (the page alias) and as many slow
views (the slow alias: a query, a 20 ms pause, a query), and the parent
reads the count after each. Prints round trips per request, per mode and
view. Starts a throwaway PostgreSQL unless DATABASE_URL is set.
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

from compare import pythons, worker_env  # noqa: E402
from modes import BY_NAME, MODES  # noqa: E402
from worker import SEED_ITEMS  # noqa: E402

from dbpool.options import OPTION_NAMES  # noqa: E402
from dbpool.testing.pgcluster import PgCluster, parse_database_url  # noqa: E402
from tests.proxy import FaultProxy  # noqa: E402

VIEWS = (('one query', '/bench/s1/%d/'), ('page', '/page/page/%d/'),
         ('slow view', '/slow/slow/%d/'))
WARMUP = 5


def child(requests):
    """In the worker: serve what the parent asks, one line per phase."""
    import worker
    worker.set_up_django(BY_NAME[os.environ['BENCH_MODE']])
    from django.core.wsgi import get_wsgi_application
    application = get_wsgi_application()
    statuses = []

    def serve(path, count):
        for number in range(count):
            result = application(worker.make_environ(path % (number % SEED_ITEMS + 1)),
                                 lambda status, headers, exc_info=None: statuses.append(status))
            for _ in result:
                pass
            result.close()

    for name, path in VIEWS:
        serve(path, WARMUP)
        print('READY %s' % name)
        sys.stdout.flush()
        sys.stdin.readline()
        serve(path, requests)
        print('DONE %s' % name)
        sys.stdout.flush()
        sys.stdin.readline()
    failed = [status for status in statuses if not status.startswith('200')]
    print('END %d' % len(failed))
    sys.stdout.flush()
    os._exit(0)


def count_mode(python, url, mode, requests):
    settings = parse_database_url(url)
    proxy = FaultProxy(settings['PORT'], count=True)
    proxied = 'postgres://%s:%s@%s:%d/%s' % (settings['USER'], settings['PASSWORD'],
                                             proxy.host, proxy.port, settings['NAME'])
    counts = {}
    proc = subprocess.Popen([python, os.path.abspath(__file__), '--child',
                             '--requests', str(requests)],
                            env=worker_env(proxied, mode), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, universal_newlines=True)
    try:
        before = None
        for line in proc.stdout:
            word = line.split()[0] if line.strip() else ''
            if word == 'READY':
                before = proxy.round_trips()
            elif word == 'DONE':
                counts[line.split(None, 1)[1].strip()] = (proxy.round_trips() - before) / requests
            elif word == 'END':
                if line.split()[1] != '0':
                    raise RuntimeError('%s: %s requests failed' % (mode.name, line.split()[1]))
                break
            else:
                continue
            proc.stdin.write('\n')
            proc.stdin.flush()
    finally:
        proc.wait()
        proxy.close()
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--modes', help='comma-separated mode names (default: all but stock0)')
    parser.add_argument('--requests', type=int, default=200)
    parser.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--python')
    parser.add_argument('--python-pgpool2')
    parser.add_argument('--out', help='write the counts as JSON here')
    args = parser.parse_args()
    if args.child:
        return child(args.requests)
    names = args.modes.split(',') if args.modes else [
        mode.name for mode in MODES if mode.family != 'stock0']
    found = pythons(args)
    cluster = None
    url = os.environ.get('DATABASE_URL')
    if not url:
        cluster = PgCluster().start()
        url = cluster.url()
    try:
        # migrate and seed once, through the first mode's worker.
        subprocess.check_call([found['main'], os.path.join(HERE, 'worker.py'), '--setup'],
                              env=worker_env(url, BY_NAME['persistent-pg3']))
        results = {}
        print('Round trips per request (%d requests of each view, after %d of warm-up):'
              % (args.requests, WARMUP))
        for name in names:
            mode = BY_NAME[name]
            python = found.get(mode.venv)
            if python is None:
                print('  %-40s skipped: no %s venv' % (mode.label, mode.venv))
                continue
            missing = mode.missing_options(OPTION_NAMES)
            if missing:
                print('  %-40s skipped: this dbpool has no OPTIONS %s' % (mode.label,
                                                                      ', '.join(missing)))
                continue
            results[name] = count_mode(python, url, mode, args.requests)
            print('  %-40s %-9s %s' % (mode.label, mode.driver, '  '.join(
                '%s %.2f' % (view, results[name][view]) for view, _ in VIEWS)))
            sys.stdout.flush()
        if args.out:
            with open(args.out, 'w') as out:
                json.dump(results, out, indent=1, sort_keys=True)
    finally:
        if cluster is not None:
            cluster.destroy()
    return 0


if __name__ == '__main__':
    sys.exit(main())
