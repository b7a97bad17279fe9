"""Soak run: many threads borrow pooled connections for a long time; watch for leaks.

    python benchmarks/soak.py [--seconds 300] [--threads 32] [--max-conns 8]
                              [--kill-every 0]

Django is configured in this process with dbpool's ENGINE (as
tests/backends/conftest.py does). Each thread loops: one small query, then
``connection.close()`` (the end of a request). Every 10 s it prints requests
done, errors, the server's sessions of this application (pg_stat_activity),
the process RSS (/proc/self/status) and the sizes of the pool's internal
structures; at the end, the verdict: errors == 0, sessions <= MAX_CONNS, RSS
growth after the warm-up (the first report). ``--kill-every N`` terminates
the pool's backends every N seconds (then errors count the requests that
were in flight). Exits 1 if the verdict fails.

Uses DATABASE_URL when set, else a throwaway PostgreSQL. Python 2.7 and 3.
"""
from __future__ import absolute_import, division, print_function

import argparse
import gc
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dbpool.testing.pgcluster import database_settings_from_env  # noqa: E402

APP = 'dbpool-soak'
REPORT_EVERY = 10.0


def rss_kb():
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except (IOError, OSError):
        pass
    return -1


def configure(settings_dict, max_conns):
    import django
    from django.conf import settings
    settings.configure(
        DATABASES={'default': dict(settings_dict, ENGINE='dbpool.db.backends.postgresql',
                                   OPTIONS={'MAX_CONNS': max_conns, 'MIN_CONNS': 0,
                                            'POOL_TIMEOUT': 10, 'application_name': APP})},
        USE_TZ=True, TIME_ZONE='UTC', INSTALLED_APPS=[], SECRET_KEY='dbpool-soak')
    if hasattr(django, 'setup'):  # 1.7+
        django.setup()


def raw_connect(settings_dict):
    try:
        import psycopg as driver
    except ImportError:
        import psycopg2 as driver
    connection = driver.connect(dbname=settings_dict['NAME'], user=settings_dict['USER'],
                                password=settings_dict['PASSWORD'],
                                host=settings_dict['HOST'], port=settings_dict['PORT'])
    connection.autocommit = True
    return connection


def scalar(connection, sql, params=None):
    cursor = connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]
    finally:
        cursor.close()


def pool_structures():
    """Sizes of every pool's internal containers, and its counters."""
    from dbpool import registry
    pools = registry.all_pools()
    sizes = dict(pools=len(pools), idle=0, in_use=0, waiters=0, reclaimed=0)
    for pool in pools:
        sizes['idle'] += len(pool._idle)
        sizes['in_use'] += len(pool._in_use)
        sizes['waiters'] += len(pool._waiters)
        sizes['reclaimed'] += len(pool._reclaimed)
    return sizes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seconds', type=float, default=300.0)
    parser.add_argument('--threads', type=int, default=32)
    parser.add_argument('--max-conns', type=int, default=8)
    parser.add_argument('--kill-every', type=float, default=0.0,
                        help='terminate the pool backends every N seconds (0: never)')
    args = parser.parse_args()

    settings_dict, cluster = database_settings_from_env()
    configure(settings_dict, args.max_conns)
    import django
    import dbpool
    from django.db import connection

    admin = raw_connect(settings_dict)
    lock = threading.Lock()
    counts = {'requests': 0, 'errors': 0}
    samples = []
    running = threading.Event()
    running.set()

    def worker():
        done = errors = 0
        while running.is_set():
            try:
                cursor = connection.cursor()
                cursor.execute('SELECT count(*) FROM pg_class WHERE relpages >= %s', [0])
                cursor.fetchone()
                cursor.close()
                done += 1
            except Exception:
                errors += 1
            finally:
                try:
                    connection.close()
                except Exception:
                    errors += 1
            if done + errors >= 20:
                with lock:
                    counts['requests'] += done
                    counts['errors'] += errors
                done = errors = 0
        with lock:
            counts['requests'] += done
            counts['errors'] += errors

    peak = [0]

    def sessions():
        return scalar(admin, 'SELECT count(*) FROM pg_stat_activity WHERE application_name = %s',
                      [APP])

    print('soak: Django %s, Python %s, %d threads, MAX_CONNS=%d, %.0f s%s' % (
        django.get_version(), sys.version.split()[0], args.threads, args.max_conns,
        args.seconds, ', killing backends every %.1f s' % args.kill_every
        if args.kill_every else ''))
    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    started = time.time()
    for thread in threads:
        thread.start()
    next_report = started + REPORT_EVERY
    next_kill = started + args.kill_every if args.kill_every else None
    killed = 0
    deadline = started + args.seconds
    try:
        while True:
            now = time.time()
            if now >= deadline:
                break
            peak[0] = max(peak[0], sessions())
            if next_kill is not None and now >= next_kill:
                killed += scalar(admin, 'SELECT count(pg_terminate_backend(pid)) FROM '
                                 'pg_stat_activity WHERE application_name = %s', [APP])
                next_kill += args.kill_every
            if now >= next_report:
                with lock:
                    done, errors = counts['requests'], counts['errors']
                stats = dbpool.pool_stats()
                sample = dict(t=now - started, requests=done, errors=errors,
                              sessions=sessions(), rss_kb=rss_kb(), objects=len(gc.get_objects()),
                              structures=pool_structures(),
                              open=sum(s['connections_open'] for s in stats),
                              created=sum(s['connections_created'] for s in stats))
                samples.append(sample)
                print('t=%4.0fs requests=%d errors=%d sessions=%d (peak %d) rss=%d kB '
                      'gc_objects=%d pool: open=%d created=%d %s' % (
                          sample['t'], done, errors, sample['sessions'], peak[0],
                          sample['rss_kb'], sample['objects'], sample['open'],
                          sample['created'], ' '.join('%s=%d' % item for item in
                                                      sorted(sample['structures'].items()))))
                sys.stdout.flush()
                next_report += REPORT_EVERY
            time.sleep(0.02)
    finally:
        running.clear()
        for thread in threads:
            thread.join(30)
    elapsed = time.time() - started
    final_rss = rss_kb()
    stats = dbpool.pool_stats()
    structures = pool_structures()
    print('done: %d requests in %.1f s (%.0f/s), errors %d, backends terminated %d' % (
        counts['requests'], elapsed, counts['requests'] / elapsed, counts['errors'], killed))
    for snapshot in stats:
        print('pool %s: %s' % (snapshot['alias'], ', '.join(
            '%s=%s' % (key, round(value, 1) if isinstance(value, float) else value)
            for key, value in sorted(snapshot.items())
            if key not in ('name', 'alias', 'dbname'))))
    ok = True
    errors_ok = counts['errors'] == 0 or bool(killed)
    print('verdict: errors == 0: %s (%d%s)' % (
        counts['errors'] == 0, counts['errors'],
        ', in-flight requests of killed backends' if killed and counts['errors'] else ''))
    ok &= errors_ok
    print('verdict: peak sessions %d <= MAX_CONNS %d: %s' % (
        peak[0], args.max_conns, peak[0] <= args.max_conns))
    ok &= peak[0] <= args.max_conns
    print('verdict: pool structures at the end: %s (in_use, waiters, reclaimed all 0: %s)' % (
        structures, structures['in_use'] == structures['waiters'] == structures['reclaimed'] == 0))
    ok &= structures['in_use'] == structures['waiters'] == structures['reclaimed'] == 0
    if samples:
        warm = samples[0]
        growth = final_rss - warm['rss_kb']
        print('verdict: RSS after warm-up (t=%.0fs) %d kB, at the end %d kB: growth %+d kB '
              '(%+.1f%%); gc objects %d -> %d' % (
                  warm['t'], warm['rss_kb'], final_rss, growth,
                  100.0 * growth / warm['rss_kb'] if warm['rss_kb'] > 0 else 0.0,
                  warm['objects'], len(gc.get_objects())))
    admin.close()
    from dbpool import registry
    registry.close_pools()
    if cluster is not None:
        cluster.destroy()
    print('soak: %s' % ('OK' if ok else 'FAILED'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
