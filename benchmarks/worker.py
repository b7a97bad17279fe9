"""One benchmark worker process: one mode, every scenario, one round.

Run by compare.py, never by hand (it needs BENCH_MODE, DATABASE_URL and
PYTHONPATH set). Drives the site's WSGI application (the handler from
get_wsgi_application(), so request_started and request_finished fire) from
long-lived threads, as a threaded WSGI server's workers would, then runs the
micro-benchmark, and prints one line: ``RESULT <json>``.
"""
from __future__ import absolute_import, division, print_function

import os

if os.environ.get('BENCH_MODE', '').startswith('gevent-'):
    # Before anything imports threading or socket: the gevent modes' threads
    # are greenlets, as in a gevent worker of gunicorn.
    from gevent import monkey
    monkey.patch_all()
    if os.environ['BENCH_MODE'].endswith('-pg2'):
        from psycogreen.gevent import patch_psycopg
        patch_psycopg()

import argparse
import io
import json
import sys
import threading
import time

from modes import BY_NAME, SCENARIOS, scenario_sizes, view_path

clock = time.perf_counter
SEED_ITEMS = 100
WARMUP_LIMIT = 30.0  # seconds a scenario may wait for every thread's first request


def block_psycopg3():
    """Make ``import psycopg`` fail, so that Django picks psycopg2."""
    sys.modules['psycopg'] = None
    sys.modules['psycopg_pool'] = None


def set_up_django(mode):
    if mode.driver == 'psycopg2':
        block_psycopg3()
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'benchsite.settings')
    import django
    django.setup()


def seed():
    """Create the tables and the rows the view reads (once per run)."""
    from django.core.management import call_command
    from shop.models import Item
    call_command('migrate', interactive=False, verbosity=0)
    missing = SEED_ITEMS - Item.objects.count()
    Item.objects.bulk_create([Item(name='item-%d' % i, quantity=i % 10)
                              for i in range(max(missing, 0))])


# -- The load -------------------------------------------------------------------

def make_environ(path):
    return {
        'REQUEST_METHOD': 'GET', 'PATH_INFO': path, 'QUERY_STRING': '',
        'SERVER_NAME': '127.0.0.1', 'SERVER_PORT': '80', 'HTTP_HOST': '127.0.0.1',
        'SERVER_PROTOCOL': 'HTTP/1.1', 'REMOTE_ADDR': '127.0.0.1',
        'wsgi.version': (1, 0), 'wsgi.url_scheme': 'http', 'wsgi.input': io.BytesIO(b''),
        'wsgi.errors': sys.stderr, 'wsgi.multithread': True, 'wsgi.multiprocess': False,
        'wsgi.run_once': False,
    }


class Client(threading.Thread):
    """A worker thread of a threaded WSGI server: one request after another."""

    def __init__(self, application, alias, index, stop):
        super(Client, self).__init__(name='bench-%s-%d' % (alias, index))
        self.daemon = True
        self.application = application
        self.alias = alias
        self.index = index
        self.stop = stop
        self.done = []          # (start, end) of each finished request
        self.current = None     # start of the request in flight
        self.errors = 0
        self.path = view_path(alias)

    def run(self):
        from django.db import connections
        statuses = []
        start_response = lambda status, headers, exc_info=None: statuses.append(status)
        number = self.index
        while not self.stop.is_set():
            number += 1
            environ = make_environ(self.path % (self.alias, number % SEED_ITEMS + 1))
            start = self.current = clock()
            result = self.application(environ, start_response)
            try:
                for _ in result:
                    pass
            finally:
                result.close()  # fires request_finished, as a WSGI server does
            end = clock()
            self.current = None
            self.done.append((start, end))
            if not statuses.pop().startswith('200'):
                self.errors += 1
        # A server's worker shutting down: give the connection back.
        connections[self.alias].close()


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of a sorted list (0.0 if empty)."""
    if not sorted_values:
        return 0.0
    rank = int(round(fraction * len(sorted_values) + 0.5)) - 1
    return sorted_values[min(max(rank, 0), len(sorted_values) - 1)]


def run_load(application, alias, threads, warmup, seconds, window):
    """Load ``alias`` from ``threads`` threads; measure ``seconds`` after ``warmup``."""
    stop = threading.Event()
    clients = [Client(application, alias, i, stop) for i in range(threads)]
    for client in clients:
        client.start()
    # Warm-up: the time asked for, and at least one request done by every
    # thread, so that a pool made lazily at the first request (with its
    # first connections) is not measured.
    time.sleep(warmup)
    give_up = clock() + WARMUP_LIMIT
    while not all(client.done for client in clients) and clock() < give_up:
        time.sleep(0.01)
    t0 = clock()
    cpu0 = time.process_time()
    t1 = t0 + seconds
    time.sleep(max(0.0, t1 - clock()))
    end = clock()
    # The CPU time this process spent in the window: the application's cost
    # per request, which other processes' load barely changes.
    cpu = time.process_time() - cpu0
    # Requests still in flight at the end of the window count as waiting
    # that long: a starved thread shows in the latency too.
    in_flight = [client.current for client in clients]
    stop.set()
    for client in clients:
        client.join(60)
    latencies = []
    windows = max(1, int(round(seconds / window)))
    starved_windows = 0
    starved_threads = 0
    for client, current in zip(clients, in_flight):
        counts = [0] * windows
        for start, finish in client.done:
            if t0 <= finish <= end:
                latencies.append(finish - start)
                counts[min(int((finish - t0) / window), windows - 1)] += 1
        if current is not None and current < end:
            latencies.append(end - current)
        empty = counts.count(0)
        starved_windows += empty
        starved_threads += 1 if empty else 0
    latencies.sort()
    done = sum(1 for client in clients for _, finish in client.done if t0 <= finish <= end)
    return {
        'threads': threads, 'requests': done, 'seconds': end - t0,
        'requests_per_s': done / (end - t0),
        'p50_ms': percentile(latencies, 0.50) * 1e3,
        'p99_ms': percentile(latencies, 0.99) * 1e3,
        'max_ms': percentile(latencies, 1.0) * 1e3,
        'in_flight_at_end': sum(1 for current in in_flight if current is not None),
        'windows': windows, 'starved_thread_windows': starved_windows,
        'starved_threads': starved_threads,
        'errors': sum(client.errors for client in clients),
        'cpu_us_per_request': cpu / done * 1e6 if done else None,
    }


# -- The micro-benchmark ----------------------------------------------------------

def run_micro(alias, seconds, batch_s=0.005):
    """Microseconds of one borrow + SELECT 1 + return, as Django does them."""
    # The return is what request_finished does to each connection:
    # close_if_unusable_or_obsolete(), which closes (gives back to a pool)
    # with CONN_MAX_AGE=0 and keeps a persistent connection.
    from django.db import connections
    connection = connections[alias]

    def cycle():
        with connection.cursor() as cursor:
            cursor.execute('SELECT 1')
            cursor.fetchone()
        connection.close_if_unusable_or_obsolete()

    warm_until = clock() + min(0.2, seconds / 4)
    cycles = 0
    while clock() < warm_until or cycles < 20:
        cycle()
        cycles += 1
    # Batches of about batch_s; the best one is the least disturbed by the
    # other processes of a shared machine.
    per_batch = max(1, int(batch_s * cycles / max(min(0.2, seconds / 4), 1e-3)))
    best = float('inf')
    total_cycles = 0
    # This thread's CPU time: what the cycle costs the application itself,
    # which other processes' load barely changes (waits on the server are
    # not in it).
    cpu_started = time.thread_time()
    deadline = clock() + seconds
    while clock() < deadline:
        started = clock()
        for _ in range(per_batch):
            cycle()
        best = min(best, (clock() - started) / per_batch)
        total_cycles += per_batch
    cpu = time.thread_time() - cpu_started
    connection.close()
    return {'us_per_cycle': best * 1e6, 'cpu_us_per_cycle': cpu / total_cycles * 1e6,
            'cycles': total_cycles}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--setup', action='store_true', help='migrate and seed, then exit')
    parser.add_argument('--warmup', type=float, default=0.5)
    parser.add_argument('--seconds', type=float, default=2.0)
    parser.add_argument('--window', type=float, default=1.0)
    parser.add_argument('--micro-seconds', type=float, default=0.5)
    parser.add_argument('--scenarios', help='default: the scenarios of the mode, and micro')
    args = parser.parse_args()
    mode = BY_NAME[os.environ['BENCH_MODE']]
    set_up_django(mode)
    if args.setup:
        seed()
        return 0
    from django import get_version
    from django.core.wsgi import get_wsgi_application
    from django.db import connections
    application = get_wsgi_application()
    wanted = args.scenarios.split(',') if args.scenarios else mode.scenarios() + (
        [] if mode.gevent else ['micro'])
    wanted = [name for name in wanted if name == 'micro' and not mode.gevent
              or name in mode.scenarios()]
    results = {}
    sizes = scenario_sizes(os.environ)
    for alias, _, _ in SCENARIOS:
        if alias in wanted:
            results[alias] = run_load(application, alias, sizes[alias][0], args.warmup,
                                      args.seconds, args.window)
            results[alias]['connections'] = sizes[alias][1]
    if 'micro' in wanted:
        results['micro'] = run_micro('s1', args.micro_seconds)
    driver = connections['s1'].Database
    results['versions'] = {'django': get_version(), 'driver': '%s %s' % (
        driver.__name__, driver.__version__.split()[0]), 'python': sys.version.split()[0]}
    print('RESULT ' + json.dumps(results, sort_keys=True))
    sys.stdout.flush()
    # Daemon threads (pools' housekeepers) must not hold the exit up.
    os._exit(0)


if __name__ == '__main__':
    sys.exit(main())
