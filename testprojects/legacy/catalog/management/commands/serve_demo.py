"""``manage.py serve_demo``: load the real WSGI app from many threads, watch the server.

The legacy twin of testprojects/modern's command, for Django 1.3 to 1.6 on
Python 2.7 (optparse options). Both leave the work to ``dbpool.testing.loadrun``.

Serves the project's WSGI application with a threaded wsgiref server on a
free loopback port, fires ``--requests`` HTTP requests from ``--threads``
client threads at /books/ (about 80 %) and /books/add/ (about 20 %), and
meanwhile counts the app's server connections (application_name
``dbpool-legacy``) in pg_stat_activity every 50 ms over a separate plain
psycopg2 connection (no Django, no pool).

Exits non-zero if a request failed, or if the app ever had more server
connections than MAX_CONNS (with a dbpool ENGINE).
"""
from __future__ import absolute_import, division, print_function

import sys
from optparse import make_option

import django
import psycopg2
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections

import dbpool
from dbpool.testing import loadrun

ADD_EVERY = 5  # one request in five goes to /books/add/: an 80/20 mix


def next_request(index):
    """Request ``index`` of the mix: four reads, then one write of a new book."""
    if index % ADD_EVERY == ADD_EVERY - 1:
        return ('POST', '/books/add/', {'title': 'demo-%d' % index, 'copies': index % 10})
    return ('GET', '/books/')


def close_all_connections():
    """Close this thread's connections (connections.close_all() came with Django 1.8)."""
    for alias in connections:
        connections[alias].close()


def wsgi_application():
    """The project's WSGI application on any of Django 1.3 to 1.6."""
    try:  # Django 1.4+
        from django.core.wsgi import get_wsgi_application
    except ImportError:  # Django 1.3
        from django.core.handlers.wsgi import WSGIHandler as get_wsgi_application
    return get_wsgi_application()


def sampler_connect(settings_dict, application_name):
    """A connect() for loadrun.PgSessionCounter: plain psycopg2, named ``<app>-sampler``."""
    params = {'dbname': settings_dict['NAME'], 'application_name': application_name + '-sampler'}
    for key, param in (('USER', 'user'), ('PASSWORD', 'password'),
                       ('HOST', 'host'), ('PORT', 'port')):
        if settings_dict.get(key):
            params[param] = settings_dict[key]

    def connect():
        conn = psycopg2.connect(**params)
        conn.autocommit = True  # a fresh pg_stat_activity snapshot for every count
        return conn
    return connect


def write(line=''):
    """Print one line now (1.3's self.stdout adds no newline; 1.5's OutputWrapper does)."""
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


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
        max_conns = db['OPTIONS'].get('MAX_CONNS') if engine in settings.POOLED_ENGINES else None
        app_name = db['OPTIONS'].get('application_name', settings.APPLICATION_NAME)

        def on_serving(base_url):
            write('serving the legacy project (Django %s) with ENGINE=%s at %s; '
                  '%d requests from %d threads'
                  % (django.get_version(), engine, base_url, total, threads))

        try:
            result = loadrun.run(
                wsgi_application(), next_request, threads=threads, requests=total,
                count_sessions=loadrun.PgSessionCounter(sampler_connect(db, app_name), app_name),
                sample_interval=float(options['sample_interval']),
                timeout=float(options['timeout']), on_serving=on_serving)
        except loadrun.LoadRunError as exc:
            raise CommandError('the pg_stat_activity sampler could not connect: %s' % exc)
        pools = dbpool.pool_stats()
        close_all_connections()
        for line in loadrun.report_lines(result, engine, max_conns, pools,
                                         summary_extra={'django': django.get_version()}):
            write(line)
        problems = loadrun.problems(result, max_conns)
        if problems:
            raise CommandError('; '.join(problems))
