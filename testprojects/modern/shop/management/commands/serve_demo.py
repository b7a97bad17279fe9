"""``manage.py serve_demo``: load the real WSGI app from many threads, watch the server.

Serves the project's WSGI application with a threaded wsgiref server on a
free loopback port, fires ``--requests`` HTTP requests from ``--threads``
client threads at /items/ (about 80 %) and /items/add/ (about 20 %), and
meanwhile counts the app's server connections in pg_stat_activity every 50 ms
over a separate connection that uses Django's stock backend (not the pool).
The machinery is ``dbpool.testing.loadrun``, shared with the legacy project.

Exits non-zero if a request failed, or if the app ever had more server
connections than MAX_CONNS (with a dbpool ENGINE).
"""
from __future__ import absolute_import, division, print_function

from optparse import make_option  # compat: Django 1.7's options (see Command)

import django
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.wsgi import get_wsgi_application
from django.db import connections
from django.db.utils import load_backend

import dbpool
from dbpool.options import OPTION_NAMES
from dbpool.testing import loadrun

# compat: Django's stock backend is called postgresql_psycopg2 before 1.9.
STOCK_ENGINE = ('django.db.backends.postgresql' if django.VERSION >= (1, 9)
                else 'django.db.backends.postgresql_psycopg2')
SAMPLER_ALIAS = 'dbpool_demo_sampler'
ADD_EVERY = 5  # one request in five goes to /items/add/: an 80/20 mix


def next_request(index):
    """Request ``index`` of the mix: four reads, then one write of a new item."""
    if index % ADD_EVERY == ADD_EVERY - 1:
        return ('POST', '/items/add/', {'name': 'demo-%d' % index, 'quantity': index % 10})
    return ('GET', '/items/')


def close_all_connections():
    """connections.close_all(), which Django 1.7 lacks (compat)."""
    for connection in connections.all():
        connection.close()


def sampler_connect(settings_dict, application_name):
    """A connect() for loadrun.PgSessionCounter: Django's stock backend, ``<app>-sampler``."""
    # The stock backend works with either driver (psycopg 3 or psycopg2), and
    # without the pool's OPTIONS it neither uses the pool nor counts itself.
    options = dict((key, value) for key, value in settings_dict['OPTIONS'].items()
                   if key not in OPTION_NAMES)
    options['application_name'] = application_name + '-sampler'
    sampler_settings = dict(settings_dict, ENGINE=STOCK_ENGINE, OPTIONS=options)

    def connect():
        # Runs in the sampler thread, which a Django connection must belong to.
        return load_backend(STOCK_ENGINE).DatabaseWrapper(sampler_settings, SAMPLER_ALIAS)
    return connect


class Command(BaseCommand):
    help = ('Serve the project with a threaded wsgiref server, load it from many client '
            'threads, and report latency, backend pids, peak server connections and '
            'the pool statistics.')

    if django.VERSION < (1, 8):
        # compat: optparse options; Django 1.8 brought argparse and add_arguments().
        option_list = BaseCommand.option_list + (
            make_option('--threads', type='int', default=16,
                        help='client threads (default 16)'),
            make_option('--requests', type='int', default=2000,
                        help='HTTP requests in all (default 2000)'),
            make_option('--migrate', action='store_true', default=False,
                        help='run migrate first'),
            make_option('--sample-interval', type='float', default=0.05,
                        dest='sample_interval',
                        help='seconds between pg_stat_activity samples (default 0.05)'),
            make_option('--timeout', type='float', default=30.0,
                        help='timeout of each HTTP request in seconds (default 30)'),
        )

    def add_arguments(self, parser):
        parser.add_argument('--threads', type=int, default=16,
                            help='client threads (default 16)')
        parser.add_argument('--requests', type=int, default=2000,
                            help='HTTP requests in all (default 2000)')
        parser.add_argument('--migrate', action='store_true',
                            help='run migrate first')
        parser.add_argument('--sample-interval', type=float, default=0.05,
                            help='seconds between pg_stat_activity samples (default 0.05)')
        parser.add_argument('--timeout', type=float, default=30.0,
                            help='timeout of each HTTP request in seconds (default 30)')

    def handle(self, *args, **options):
        if options['threads'] < 1 or options['requests'] < 1:
            raise CommandError('--threads and --requests must be at least 1')
        if options['migrate']:
            call_command('migrate', interactive=False,
                         verbosity=max(int(options['verbosity']) - 1, 0))
        # Give back what migrate used in this thread: only the server's
        # threads should hold connections during the run.
        close_all_connections()

        db = connections['default'].settings_dict
        engine = db['ENGINE']
        max_conns = db['OPTIONS'].get('MAX_CONNS') if engine in settings.POOLED_ENGINES else None
        app_name = db['OPTIONS'].get('application_name', settings.APPLICATION_NAME)

        def on_serving(base_url):
            self.stdout.write('serving %s with ENGINE=%s at %s; %d requests from %d threads'
                              % (settings.WSGI_APPLICATION, engine, base_url,
                                 options['requests'], options['threads']))

        try:
            result = loadrun.run(
                get_wsgi_application(), next_request,
                threads=options['threads'], requests=options['requests'],
                count_sessions=loadrun.PgSessionCounter(sampler_connect(db, app_name), app_name),
                sample_interval=options['sample_interval'], timeout=options['timeout'],
                on_serving=on_serving)
        except loadrun.LoadRunError as exc:
            raise CommandError('the pg_stat_activity sampler could not connect: %s' % exc)
        pools = dbpool.pool_stats()
        close_all_connections()
        for line in loadrun.report_lines(result, engine, max_conns, pools):
            self.stdout.write(line)
        problems = loadrun.problems(result, max_conns)
        if problems:
            raise CommandError('; '.join(problems))
