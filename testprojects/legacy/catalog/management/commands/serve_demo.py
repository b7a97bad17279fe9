"""``manage.py serve_demo``: load the real WSGI app from many threads, watch the server.

The legacy twin of testprojects/modern's command, for Django 1.3 to 1.6 on
Python 2.7 (optparse options, ``SocketServer``, ``urllib2``).

Starts the project's WSGI application in a threaded wsgiref server on a free
loopback port, fires ``--requests`` HTTP requests from ``--threads`` client
threads at /books/ (about 80 %) and /books/add/ (about 20 %), and meanwhile
counts the app's server connections (application_name ``dbpool-legacy``) in
pg_stat_activity every 50 ms over a separate plain psycopg2 connection (no
Django, no pool).

Exits non-zero if a request failed, or if the app ever had more server
connections than MAX_CONNS (with a dbpool ENGINE).
"""
import json
import sys
import threading
from optparse import make_option
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import psycopg2
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections

try:
    import dbpool
except ImportError:  # the stock ENGINE needs no dbpool
    dbpool = None

try:  # Python 2
    import SocketServer as socketserver
    from urllib import urlencode
    from urllib2 import HTTPError, urlopen
except ImportError:  # Python 3
    import socketserver
    from urllib.error import HTTPError
    from urllib.parse import urlencode
    from urllib.request import urlopen

try:
    from time import perf_counter as clock
except ImportError:  # Python 2
    from time import time as clock

ADD_EVERY = 5  # one request in five goes to /books/add/: an 80/20 mix
MAX_PIDS_SHOWN = 20


def close_all_connections():
    # connections.close_all() came with Django 1.8; this thread's only is enough here.
    for alias in connections:
        connections[alias].close()


def wsgi_application():
    try:  # Django 1.4+
        from django.core.wsgi import get_wsgi_application
    except ImportError:  # Django 1.3
        from django.core.handlers.wsgi import WSGIHandler as get_wsgi_application
    return get_wsgi_application()


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the listen() backlog; the default 5 is small here


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def percentile(sorted_values, fraction):
    """The nearest-rank percentile of an already sorted list (0 if empty)."""
    if not sorted_values:
        return 0.0
    rank = int(round(fraction * len(sorted_values) + 0.5)) - 1
    return sorted_values[min(max(rank, 0), len(sorted_values) - 1)]


class ConnectionSampler(threading.Thread):
    """Counts the app's server connections in pg_stat_activity, every ``interval`` s.

    Its own plain psycopg2 connection (application_name ``<app>-sampler``)
    neither uses the pool nor counts itself.
    """

    def __init__(self, settings_dict, application_name, interval):
        threading.Thread.__init__(self, name='pg-stat-sampler')
        self.daemon = True
        self.params = {'dbname': settings_dict['NAME'],
                       'application_name': application_name + '-sampler'}
        for key, param in (('USER', 'user'), ('PASSWORD', 'password'),
                           ('HOST', 'host'), ('PORT', 'port')):
            if settings_dict.get(key):
                self.params[param] = settings_dict[key]
        self.application_name = application_name
        self.interval = interval
        self.started = threading.Event()
        self.stopping = threading.Event()
        self.samples = []
        self.error = None

    def count(self, cursor):
        cursor.execute(
            'SELECT count(*) FROM pg_stat_activity '
            'WHERE datname = current_database() AND application_name = %s',
            [self.application_name])
        return cursor.fetchone()[0]

    def run(self):
        conn = None
        try:
            conn = psycopg2.connect(**self.params)
            conn.autocommit = True
            cursor = conn.cursor()
            self.samples.append(self.count(cursor))
            self.started.set()
            while True:
                self.stopping.wait(self.interval)
                self.samples.append(self.count(cursor))
                if self.stopping.is_set():
                    break
        except Exception as exc:
            self.error = exc
        finally:
            self.started.set()
            if conn is not None:
                conn.close()

    def stop(self):
        self.stopping.set()
        self.join(30)

    @property
    def peak(self):
        return max(self.samples) if self.samples else None


class Command(BaseCommand):
    help = ('Serve the project with a threaded wsgiref server, load it from many client '
            'threads, and report latency, backend pids, peak server connections and '
            'the pool statistics.')

    # optparse: Django 1.3 to 1.7 (argparse's add_arguments came with 1.8).
    option_list = BaseCommand.option_list + (
        make_option('--threads', type='int', default=16,
                    help='client threads (default 16)'),
        make_option('--requests', type='int', default=2000,
                    help='HTTP requests in all (default 2000)'),
        make_option('--migrate', action='store_true', default=False,
                    help='run syncdb and the South migrations first'),
        make_option('--sample-interval', type='float', default=0.05, dest='sample_interval',
                    help='seconds between pg_stat_activity samples (default 0.05)'),
        make_option('--timeout', type='float', default=30.0,
                    help='timeout of each HTTP request in seconds (default 30)'),
    )

    def write(self, line=''):
        # OutputWrapper (1.5+) adds the newline, 1.3's self.stdout does not.
        sys.stdout.write(line + '\n')
        sys.stdout.flush()

    def handle(self, *args, **options):
        threads, total = int(options['threads']), int(options['requests'])
        if threads < 1 or total < 1:
            raise CommandError('--threads and --requests must be at least 1')
        if options['migrate']:
            verbosity = max(int(options.get('verbosity', 1)) - 1, 0)
            call_command('syncdb', interactive=False, verbosity=verbosity)
            call_command('migrate', interactive=False, verbosity=verbosity)
        # Give back what syncdb/migrate used in this thread: only the
        # server's threads should hold connections during the run.
        close_all_connections()

        db = connection.settings_dict
        engine = db['ENGINE']
        pooled = engine in settings.POOLED_ENGINES
        max_conns = db['OPTIONS'].get('MAX_CONNS') if pooled else None
        app_name = db['OPTIONS'].get('application_name', settings.APPLICATION_NAME)

        sampler = ConnectionSampler(db, app_name, float(options['sample_interval']))
        sampler.start()
        sampler.started.wait(30)
        if sampler.error is not None:
            raise CommandError('the pg_stat_activity sampler could not connect: %s'
                               % sampler.error)

        server = make_server('127.0.0.1', 0, wsgi_application(),
                             server_class=ThreadingWSGIServer, handler_class=QuietHandler)
        server_thread = threading.Thread(target=server.serve_forever, name='wsgi-server')
        server_thread.daemon = True
        server_thread.start()
        base_url = 'http://127.0.0.1:%d' % server.server_address[1]
        self.write('serving the legacy project (Django %s) with ENGINE=%s at %s; '
                   '%d requests from %d threads'
                   % (django_version(), engine, base_url, total, threads))

        try:
            result = self.load(base_url, threads, total, float(options['timeout']))
        finally:
            sampler.stop()
            server.shutdown()
            server.server_close()
        pools = dbpool.pool_stats() if dbpool is not None else []
        close_all_connections()
        self.report(result, sampler, engine, max_conns, pools)

        problems = []
        if result['errors']:
            problems.append('%d of %d requests failed' % (result['errors'], result['total']))
        if sampler.error is not None:
            problems.append('the pg_stat_activity sampler failed: %s' % sampler.error)
        if max_conns is not None and sampler.peak is not None and sampler.peak > max_conns:
            problems.append('peak server connections %d exceeded MAX_CONNS=%d'
                            % (sampler.peak, max_conns))
        if problems:
            raise CommandError('; '.join(problems))

    def load(self, base_url, thread_count, total, timeout):
        lock = threading.Lock()
        state = {'next': 0}
        latencies = []
        pids = set()
        errors = []

        def next_index():
            with lock:
                index = state['next']
                if index >= total:
                    return None
                state['next'] = index + 1
                return index

        def one_request(index):
            if index % ADD_EVERY == ADD_EVERY - 1:
                data = urlencode({'title': 'demo-%d' % index, 'copies': index % 10})
                response = urlopen(base_url + '/books/add/', data.encode('ascii'), timeout)
            else:
                response = urlopen(base_url + '/books/', None, timeout)
            try:
                return json.loads(response.read().decode('utf-8'))
            finally:
                response.close()

        def client():
            while True:
                index = next_index()
                if index is None:
                    return
                started = clock()
                try:
                    body = one_request(index)
                except HTTPError as exc:
                    text = ' '.join(exc.read()[:400].decode('utf-8', 'replace').split())
                    error = 'HTTP %s on request %d: %s' % (exc.code, index, text[:160])
                except Exception as exc:
                    error = 'request %d: %r' % (index, exc)
                else:
                    error = None
                elapsed = clock() - started
                with lock:
                    if error is None:
                        latencies.append(elapsed)
                        pids.add(body['backend_pid'])
                    else:
                        errors.append(error)

        threads = [threading.Thread(target=client, name='client-%d' % i)
                   for i in range(thread_count)]
        started = clock()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = clock() - started
        latencies.sort()
        return {
            'total': total,
            'done': len(latencies),
            'errors': len(errors),
            'error_samples': errors[:5],
            'seconds': wall,
            'requests_per_s': len(latencies) / wall if wall > 0 else 0.0,
            'p50_ms': percentile(latencies, 0.50) * 1000.0,
            'p99_ms': percentile(latencies, 0.99) * 1000.0,
            'backend_pids': sorted(pids),
        }

    def report(self, result, sampler, engine, max_conns, pools):
        write = self.write
        write('')
        write('requests done          %d of %d in %.2f s' % (
            result['done'], result['total'], result['seconds']))
        write('errors                 %d' % result['errors'])
        for sample in result['error_samples']:
            write('  %s' % sample)
        write('requests/s             %.1f' % result['requests_per_s'])
        write('latency p50 / p99      %.1f ms / %.1f ms' % (result['p50_ms'], result['p99_ms']))
        pids = result['backend_pids']
        shown = ' '.join(str(pid) for pid in pids[:MAX_PIDS_SHOWN])
        if len(pids) > MAX_PIDS_SHOWN:
            shown += ' ... (%d more)' % (len(pids) - MAX_PIDS_SHOWN)
        write('distinct backend pids  %d: %s' % (len(pids), shown))
        limit = ('MAX_CONNS=%d' % max_conns) if max_conns is not None \
            else 'no limit checked: %s is not pooled' % engine
        peak = sampler.peak
        write('peak server conns      %s (%s; %d samples of pg_stat_activity)' % (
            'unknown' if peak is None else peak, limit, len(sampler.samples)))
        write('')
        write('pool statistics (dbpool.pool_stats()):')
        if not pools:
            write('  (no pools in this process)')
        for pool in pools:
            write('  %s' % pool.get('name'))
            for key in sorted(pool):
                if key != 'name':
                    value = pool[key]
                    if isinstance(value, float):
                        value = '%.1f' % value
                    write('    %-28s %s' % (key, value))
        write('pool_stats_json: %s' % json.dumps(pools, sort_keys=True))
        write('summary_json: %s' % json.dumps({
            'django': django_version(),
            'engine': engine,
            'requests': result['total'],
            'done': result['done'],
            'errors': result['errors'],
            'requests_per_s': round(result['requests_per_s'], 1),
            'p50_ms': round(result['p50_ms'], 2),
            'p99_ms': round(result['p99_ms'], 2),
            'distinct_backend_pids': len(result['backend_pids']),
            'peak_server_connections': peak,
            'max_conns': max_conns,
        }, sort_keys=True))


def django_version():
    import django
    return django.get_version()
