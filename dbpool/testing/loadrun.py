"""Load a WSGI application from many client threads and measure it (no Django).

``run()`` serves the application with a threaded wsgiref server on a free
loopback port, sends requests to it from client threads, and meanwhile calls
an optional session counter (``PgSessionCounter`` counts pg_stat_activity) in
a sampler thread. It returns a ``LoadResult``: requests done, errors,
requests/s, p50/p99/max latency, the distinct backend pids the responses
reported and the peak session count. ``report_lines()`` and ``problems()``
turn a result into the sample projects' report and exit verdict;
``demo_database()`` is the sample projects' ``DATABASES['default']``.

Django is imported nowhere here: the caller passes its WSGI application, and
a counter that needs a Django connection opens it through ``connect``.
"""
from __future__ import absolute_import, division, print_function

import json
import os
import sys
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from dbpool.testing.pgcluster import database_settings_from_env

try:  # Python 3
    import socketserver
    from urllib.error import HTTPError
    from urllib.parse import urlencode
    from urllib.request import Request, urlopen
except ImportError:  # Python 2
    import SocketServer as socketserver
    from urllib import urlencode
    from urllib2 import HTTPError, Request, urlopen

try:
    from time import perf_counter as clock
except ImportError:  # Python 2
    from time import time as clock

POOLED_ENGINES = ('dbpool.db.backends.postgresql', 'dbpool.db.backends.postgresql_psycopg2')
PID_KEY = 'backend_pid'  # the JSON key under which a response names its server process
ERROR_SAMPLES = 5
MAX_PIDS_SHOWN = 20
SAMPLER_START_TIMEOUT = 30.0
BODYLESS_METHODS = ('GET', 'HEAD', 'DELETE', 'OPTIONS')
COUNT_SESSIONS_SQL = ('SELECT count(*) FROM pg_stat_activity '
                      'WHERE datname = current_database() AND application_name = %s')


class LoadRunError(Exception):
    """The load run could not start; the message says why."""


class LoadResult(object):
    """What one load run measured (times in ms, except ``seconds``); see ``as_dict()``."""

    FIELDS = ('requests', 'done', 'errors', 'error_samples', 'seconds', 'requests_per_s',
              'p50_ms', 'p99_ms', 'max_ms', 'backend_pids', 'peak_sessions', 'samples',
              'sampler_error')

    def __init__(self, **fields):
        for name in self.FIELDS:
            setattr(self, name, fields[name])

    def as_dict(self):
        """The result as a plain dict (JSON-serialisable)."""
        return dict((name, getattr(self, name)) for name in self.FIELDS)

    def __repr__(self):
        return 'LoadResult(%s)' % ', '.join(
            '%s=%r' % (name, getattr(self, name)) for name in self.FIELDS
            if name not in ('error_samples', 'backend_pids'))


# -- The server ---------------------------------------------------------------

class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server with a thread per request, as a real deployment's workers."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the listen() backlog: the default 5 refuses bursts of clients


class _QuietHandler(WSGIRequestHandler):
    """wsgiref's handler without the access log, which would bury the report."""

    def log_message(self, format, *args):
        pass


def serve(application):
    """Serve ``application`` on a free loopback port from a daemon thread; return the server."""
    server = make_server('127.0.0.1', 0, application,
                         server_class=ThreadingWSGIServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name='loadrun-server')
    thread.daemon = True
    thread.start()
    return server


def stop_serving(server):
    """Stop ``serve()``'s server and free its port."""
    server.shutdown()
    server.server_close()


# -- The clients --------------------------------------------------------------

def _chooser(mix):
    """A callable mix as it is; a list of requests as a chooser that cycles through it."""
    if callable(mix):
        return mix
    mix = tuple(mix)
    if not mix:
        raise ValueError('the request mix is empty')
    return lambda index: mix[index % len(mix)]


def _send(base_url, spec, timeout):
    """Send one (method, path[, form]) request; return its body parsed as JSON, or None."""
    method, path = spec[0].upper(), spec[1]
    form = urlencode(spec[2]) if len(spec) > 2 and spec[2] else ''
    url, data = base_url + path, None
    if method not in BODYLESS_METHODS:
        data = form.encode('ascii')  # b'' too: it still sends Content-Length: 0
    elif form:
        url += ('&' if '?' in path else '?') + form
    request = Request(url, data)
    # urllib2's Request takes no method: it would send POST with data, else GET.
    request.get_method = lambda: method
    response = urlopen(request, timeout=timeout)
    try:
        return _parse_json(response.read())
    finally:
        response.close()


def _parse_json(raw):
    """``raw`` bytes parsed as JSON, or None if they are not JSON."""
    try:
        return json.loads(raw.decode('utf-8'))
    except ValueError:  # also UnicodeDecodeError: not every app answers JSON
        return None


def _describe_http_error(exc, index):
    """One line for a failed HTTP request: status and the start of the body."""
    try:
        text = ' '.join(exc.read()[:400].decode('utf-8', 'replace').split())
    except Exception:  # the body may be gone with the connection
        text = ''
    return 'HTTP %s on request %d: %s' % (exc.code, index, text[:160])


def _attempt(base_url, choose, index, timeout):
    """Send request ``index``; return (body, None), or (None, what went wrong)."""
    try:
        return _send(base_url, choose(index), timeout), None
    except HTTPError as exc:
        return None, _describe_http_error(exc, index)
    except Exception as exc:  # a failed request is a result to report, not a crash
        return None, 'request %d: %r' % (index, exc)


class _Tally(object):
    """What the client threads share: the next request index and every outcome."""

    def __init__(self, total):
        self.lock = threading.Lock()
        self.total = total
        self.issued = 0
        self.latencies = []
        self.pids = set()
        self.errors = []

    def take(self):
        """The next request index, or None once ``total`` have been handed out."""
        with self.lock:
            if self.issued >= self.total:
                return None
            self.issued += 1
            return self.issued - 1

    def record(self, seconds, body, error):
        """Count one request: its latency and backend pid, or its error."""
        with self.lock:
            if error is not None:
                self.errors.append(error)
                return
            self.latencies.append(seconds)
            pid = body.get(PID_KEY) if isinstance(body, dict) else None
            if pid is not None:
                self.pids.add(pid)


def _client(base_url, choose, tally, timeout):
    """One client thread's loop: send requests until none are left."""
    index = tally.take()
    while index is not None:
        started = clock()
        body, error = _attempt(base_url, choose, index, timeout)
        tally.record(clock() - started, body, error)
        index = tally.take()


def _load(base_url, choose, threads, requests, timeout):
    """Send ``requests`` requests from ``threads`` client threads; return (tally, seconds)."""
    tally = _Tally(requests)
    clients = [threading.Thread(target=_client, args=(base_url, choose, tally, timeout),
                                name='loadrun-client-%d' % i) for i in range(threads)]
    started = clock()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    return tally, clock() - started


# -- The session sampler ------------------------------------------------------

class PgSessionCounter(object):
    """Counts the current database's sessions with one application_name in pg_stat_activity."""

    # ``connect()`` runs in the sampler thread on the first count (a Django
    # connection belongs to the thread that made it). It must return a
    # DB-API connection in autocommit: inside one transaction
    # pg_stat_activity would repeat its first snapshot. Its application_name
    # should differ, so the counter does not count itself.

    def __init__(self, connect, application_name):
        self.connect = connect
        self.application_name = application_name
        self.connection = None
        self.cursor = None

    def __call__(self):
        """The current count; connects on first use."""
        if self.cursor is None:
            self.connection = self.connect()
            self.cursor = self.connection.cursor()
        self.cursor.execute(COUNT_SESSIONS_SQL, [self.application_name])
        return self.cursor.fetchone()[0]

    def close(self):
        """Close the connection, if one was made."""
        connection, self.connection, self.cursor = self.connection, None, None
        if connection is not None:
            connection.close()


class SessionSampler(threading.Thread):
    """Calls ``count_sessions()`` every ``interval`` s until stopped, and keeps the counts."""

    def __init__(self, count_sessions, interval):
        super(SessionSampler, self).__init__(name='loadrun-sampler')
        self.daemon = True
        self.count_sessions = count_sessions
        self.interval = interval
        self.started = threading.Event()
        self.stopping = threading.Event()
        self.samples = []
        self.error = None

    def run(self):
        """Count until stop(), then once more; keep the error that ends it early."""
        try:
            self.samples.append(self.count_sessions())
            self.started.set()
            while not self.stopping.wait(self.interval):
                self.samples.append(self.count_sessions())
            # One more after stop(): a peak at the very end is not lost.
            self.samples.append(self.count_sessions())
        except Exception as exc:  # the caller reports it: see LoadResult.sampler_error
            self.error = exc
        finally:
            self.started.set()
            # close() belongs in this thread, where the connection was made.
            close = getattr(self.count_sessions, 'close', None)
            if close is not None:
                close()

    def stop(self):
        """Take the last sample and wait for the thread to end."""
        self.stopping.set()
        self.join(30)

    @property
    def peak(self):
        """The highest count seen, or None before the first."""
        return max(self.samples) if self.samples else None


def _start_sampler(count_sessions, interval):
    """Start a SessionSampler once its first count is in; None without a counter."""
    if count_sessions is None:
        return None
    sampler = SessionSampler(count_sessions, interval)
    sampler.start()
    sampler.started.wait(SAMPLER_START_TIMEOUT)
    # Only a failed first count stops the run; a later failure, which may
    # already have happened by now, is the result's sampler_error.
    if not sampler.samples and sampler.error is not None:
        raise LoadRunError('%s' % sampler.error)
    return sampler


# -- The run ------------------------------------------------------------------

def run(application, mix, threads=16, requests=2000, count_sessions=None,
        sample_interval=0.05, timeout=30.0, on_serving=None):
    """Serve ``application``, send it ``requests`` requests from ``threads`` threads."""
    # ``mix``: a list of (method, path) or (method, path, form dict) taken in
    # turn, or a callable choosing that for a request index (0, 1, ...).
    # ``count_sessions()``: see SessionSampler. ``on_serving(base_url)`` is
    # called once the server listens. Returns a LoadResult; raises
    # LoadRunError if the sampler cannot take its first count.
    if threads < 1 or requests < 1:
        raise ValueError('threads and requests must be at least 1')
    choose = _chooser(mix)
    sampler = _start_sampler(count_sessions, sample_interval)
    server = None
    try:
        server = serve(application)
        base_url = 'http://127.0.0.1:%d' % server.server_address[1]
        if on_serving is not None:
            on_serving(base_url)
        tally, seconds = _load(base_url, choose, threads, requests, timeout)
    finally:
        if sampler is not None:
            sampler.stop()
        if server is not None:
            stop_serving(server)
    return _summarise(requests, tally, seconds, sampler)


def percentile(sorted_values, fraction):
    """The nearest-rank percentile of an already sorted list (0.0 if empty)."""
    if not sorted_values:
        return 0.0
    rank = int(round(fraction * len(sorted_values) + 0.5)) - 1
    return sorted_values[min(max(rank, 0), len(sorted_values) - 1)]


def _summarise(requests, tally, seconds, sampler):
    """The LoadResult of a finished run."""
    latencies = sorted(tally.latencies)
    sampler_error = None if sampler is None or sampler.error is None else '%s' % sampler.error
    return LoadResult(
        requests=requests,
        done=len(latencies),
        errors=len(tally.errors),
        error_samples=tally.errors[:ERROR_SAMPLES],
        seconds=seconds,
        requests_per_s=len(latencies) / seconds if seconds > 0 else 0.0,
        p50_ms=percentile(latencies, 0.50) * 1000.0,
        p99_ms=percentile(latencies, 0.99) * 1000.0,
        max_ms=percentile(latencies, 1.0) * 1000.0,
        backend_pids=sorted(tally.pids),
        peak_sessions=None if sampler is None else sampler.peak,
        samples=0 if sampler is None else len(sampler.samples),
        sampler_error=sampler_error,
    )


# -- The report and the verdict -----------------------------------------------

def report_lines(result, engine, max_conns=None, pools=(), summary_extra=None):
    """The sample projects' report, one line per item; the last two are machine-read."""
    # pools: dbpool.pool_stats(). Other code parses the ``pool_stats_json:``
    # and ``summary_json:`` lines: keep their markers and keys.
    data = summary(result, engine, max_conns, summary_extra)
    return (_result_lines(result, engine, max_conns) + _pool_lines(pools)
            + ['summary_json: %s' % json.dumps(data, sort_keys=True)])


def _result_lines(result, engine, max_conns):
    """The measured part of the report."""
    done = (result.done, result.requests, result.seconds)
    lines = ['',
             'requests done          %d of %d in %.2f s' % done,
             'errors                 %d' % result.errors]
    lines.extend('  %s' % sample for sample in result.error_samples)
    limit = ('MAX_CONNS=%d' % max_conns if max_conns is not None
             else 'no limit checked: %s is not pooled' % engine)
    peak = 'unknown' if result.peak_sessions is None else result.peak_sessions
    lines.extend([
        'requests/s             %.1f' % result.requests_per_s,
        'latency p50 / p99      %.1f ms / %.1f ms' % (result.p50_ms, result.p99_ms),
        'distinct backend pids  %d: %s' % (len(result.backend_pids),
                                           _shown_pids(result.backend_pids)),
        'peak server conns      %s (%s; %d samples of pg_stat_activity)' % (
            peak, limit, result.samples),
    ])
    return lines


def _shown_pids(pids):
    """The first MAX_PIDS_SHOWN pids, and how many more there are."""
    shown = ' '.join('%s' % pid for pid in pids[:MAX_PIDS_SHOWN])
    if len(pids) > MAX_PIDS_SHOWN:
        shown += ' ... (%d more)' % (len(pids) - MAX_PIDS_SHOWN)
    return shown


def _pool_lines(pools):
    """dbpool.pool_stats() as a table, then as one ``pool_stats_json:`` line."""
    lines = ['', 'pool statistics (dbpool.pool_stats()):']
    if not pools:
        lines.append('  (no pools in this process)')
    for pool in pools:
        lines.append('  %s' % pool.get('name'))
        for key in sorted(pool):
            if key != 'name':
                value = pool[key]
                lines.append('    %-28s %s' % (key, '%.1f' % value if isinstance(value, float)
                                               else value))
    lines.append('pool_stats_json: %s' % json.dumps(list(pools), sort_keys=True))
    return lines


def summary(result, engine, max_conns=None, extra=None):
    """The ``summary_json:`` dict: rounded figures, the ENGINE and its limit."""
    data = {
        'engine': engine,
        'requests': result.requests,
        'done': result.done,
        'errors': result.errors,
        'requests_per_s': round(result.requests_per_s, 1),
        'p50_ms': round(result.p50_ms, 2),
        'p99_ms': round(result.p99_ms, 2),
        'distinct_backend_pids': len(result.backend_pids),
        'peak_server_connections': result.peak_sessions,
        'max_conns': max_conns,
    }
    data.update(extra or {})
    return data


def problems(result, max_conns=None):
    """Why the run failed, one sentence each; empty if it passed."""
    found = []
    if result.errors:
        found.append('%d of %d requests failed' % (result.errors, result.requests))
    if result.sampler_error is not None:
        found.append('the pg_stat_activity sampler failed: %s' % result.sampler_error)
    peak = result.peak_sessions
    if max_conns is not None and peak is not None and peak > max_conns:
        found.append('peak server connections %d exceeded MAX_CONNS=%d' % (peak, max_conns))
    return found


# -- The sample projects' database settings -----------------------------------

def demo_database(application_name, default_engine, label, environ=None):
    """A sample project's ``DATABASES['default']`` from DATABASE_URL and the DBPOOL_* knobs."""
    # Without DATABASE_URL: a private cluster, removed when this process exits.
    environ = os.environ if environ is None else environ
    database, cluster = database_settings_from_env(environ)
    if cluster is not None:
        # Re-imports of the settings (Django 1.3's manage.py imports them
        # twice) and child processes (the autoreloader, --parallel workers)
        # then reuse this cluster, which lives as long as this process.
        environ['DATABASE_URL'] = cluster.url()
        sys.stderr.write('%s: started a private PostgreSQL cluster on %s:%s '
                         '(removed at exit)\n' % (label, cluster.host, cluster.port))
    engine = environ.get('DBPOOL_ENGINE') or default_engine
    # Every connection carries application_name, so a PgSessionCounter can
    # count the app's server connections apart from its own.
    options = {'application_name': application_name}
    if engine in POOLED_ENGINES:
        options.update({
            'MAX_CONNS': int(environ.get('DBPOOL_MAX_CONNS') or 4),
            'MIN_CONNS': int(environ.get('DBPOOL_MIN_CONNS') or 1),
            'POOL_TIMEOUT': 10,
        })
    return dict(database, ENGINE=engine, OPTIONS=options)
