"""The modes compare.py measures: a Django ENGINE and its settings, on one driver.

Every mode builds DATABASES for the same aliases, one per load scenario, so
one worker process runs every scenario against its own pool size:

- ``s1``: 1 thread, 1 connection;
- ``s8``: 8 threads, 8 connections;
- ``s32``: 32 threads, 8 connections (stock Django cannot cap it: one
  connection per thread);
- ``page``: 8 threads, 8 connections, each request a realistic page;
- ``g100``: 100 greenlets, 8 connections, in a gevent-patched worker (the
  gevent modes only; stock Django would open a connection per greenlet);
- ``slow``: 32 threads, 4 connections, each request a slow view: one small
  query, a 20 ms pause that releases the GIL (an external call), one more
  query (benchsite.views.slow; the threaded modes only).

``BENCH_SIZES`` (e.g. ``slow=32/6``) changes a scenario's threads and
connections for one worker: benchmarks/slow_view_sizing.py steps it.

Each alias sets its own ``application_name`` (``bench-<alias>``), so the
sampler counts each scenario's server connections apart.
"""
from __future__ import absolute_import, division, print_function

# alias -> (client threads, connections the pool may hold). 'page' is the
# realistic page (benchsite.views.page: about ten ORM queries, some in
# atomic(), a template); the others request one small query.
SCENARIOS = (('s1', 1, 1), ('s8', 8, 8), ('s32', 32, 8), ('page', 8, 8), ('g100', 100, 8),
             ('slow', 32, 4))
PAGE_SCENARIOS = frozenset(['page'])
# The slow view: a query, a pause of SLOW_PAUSE_S seconds (time.sleep, which
# releases the GIL: an external API call), a query.
SLOW_SCENARIOS = frozenset(['slow'])
SLOW_PAUSE_S = 0.02
# Run by the gevent modes only, whose worker is monkey-patched: its
# "threads" are greenlets.
GEVENT_SCENARIOS = frozenset(['g100'])
APP_PREFIX = 'bench-'
DBPOOL_ENGINE = 'dbpool.db.backends.postgresql'
# Our families: the default (RESET_ON_RETURN='auto', CHECKOUT_SCOPE='request'),
# then RESET_ON_RETURN 'full' and 'rollback', then CHECKOUT_SCOPE='transaction'.
TRANSACTION_SCOPE = 'dbpool-tx'
OURS = ('dbpool', 'dbpool-full', 'dbpool-rollback', TRANSACTION_SCOPE)
STOCK_ENGINE = 'django.db.backends.postgresql'


class Mode(object):
    """One way of connecting Django to PostgreSQL."""

    def __init__(self, name, label, driver, family, venv='main', gevent=False):
        self.name = name          # command-line and JSON key
        self.label = label        # for the table and the chart
        self.driver = driver      # 'psycopg3' or 'psycopg2'
        self.family = family      # stock0, persistent, djpool, djdbconnpool, pgpool2,
        #                           geventpool, dbpool, dbpool-full, dbpool-rollback,
        #                           dbpool-tx
        self.venv = venv          # which of run.sh's venvs has its packages
        self.gevent = gevent      # a gevent-patched worker, running GEVENT_SCENARIOS only

    def scenarios(self):
        """The load scenarios this mode runs."""
        return [alias for alias, _, _ in SCENARIOS
                if (alias in GEVENT_SCENARIOS) == self.gevent]

    def database(self, base, alias, connections):
        """DATABASES[alias] for this mode, ``base`` holding NAME, USER, ... ."""
        options = {'application_name': APP_PREFIX + alias}
        settings = dict(base, ENGINE=STOCK_ENGINE, OPTIONS=options, CONN_MAX_AGE=0)
        family = self.family
        if family == 'persistent':
            settings['CONN_MAX_AGE'] = None
        elif family == 'djpool':
            options['pool'] = {'min_size': connections, 'max_size': connections, 'timeout': 30}
        elif family == 'djdbconnpool':
            # Its defaults (pre_ping on, as users get it), with a fixed size.
            settings['ENGINE'] = 'dj_db_conn_pool.backends.postgresql'
            settings['POOL_OPTIONS'] = {'POOL_SIZE': connections, 'MAX_OVERFLOW': 0,
                                        'TIMEOUT': 30}
        elif family == 'pgpool2':
            # Sized by the global DATABASE_POOL_ARGS (see benchsite.settings).
            settings['ENGINE'] = 'django_postgrespool2'
        elif family == 'geventpool':
            settings['ENGINE'] = 'django_db_geventpool.backends.postgresql_%s' % (
                'psycopg3' if self.driver == 'psycopg3' else 'psycopg2')
            options['MAX_CONNS'] = connections
        elif family in OURS:
            settings['ENGINE'] = DBPOOL_ENGINE
            options.update(MAX_CONNS=connections, MIN_CONNS=connections, POOL_TIMEOUT=30)
            options.update(self.dbpool_options())
        return settings

    def dbpool_options(self):
        """The dbpool OPTIONS this mode sets beyond the sizes (none for the default)."""
        if self.family == TRANSACTION_SCOPE:
            return {'CHECKOUT_SCOPE': 'transaction'}
        if self.family in OURS and self.family != 'dbpool':
            return {'RESET_ON_RETURN': self.family.split('-', 1)[1]}
        return {}

    def missing_options(self, known):
        """The dbpool OPTIONS of this mode that ``known`` (dbpool's names) lacks.

        A dbpool without CHECKOUT_SCOPE would pass the key on to libpq, and
        every connection would fail: compare.py skips such a mode instead.
        """
        return sorted(name for name in self.dbpool_options() if name not in known)

    def settings_extra(self):
        """Project-wide settings this mode needs."""
        if self.family == 'pgpool2':
            # One size for every pool of the process (8; s1 uses only one).
            return {'DATABASE_POOL_ARGS': {'pool_size': 8, 'max_overflow': 0,
                                           'recycle': 3600}}
        return {}


MODES = (
    Mode('stock0-pg3', 'stock CONN_MAX_AGE=0', 'psycopg3', 'stock0'),
    Mode('persistent-pg3', 'stock persistent', 'psycopg3', 'persistent'),
    Mode('djpool-pg3', "Django's pool (psycopg_pool)", 'psycopg3', 'djpool'),
    Mode('djdbconnpool-pg3', 'django-db-connection-pool', 'psycopg3', 'djdbconnpool'),
    Mode('dbpool-pg3', 'dbpool (default)', 'psycopg3', 'dbpool'),
    Mode('dbpool-full-pg3', "dbpool RESET_ON_RETURN='full'", 'psycopg3', 'dbpool-full'),
    Mode('dbpool-rollback-pg3', "dbpool RESET_ON_RETURN='rollback'", 'psycopg3',
         'dbpool-rollback'),
    Mode('dbpool-tx-pg3', 'dbpool (transaction scope)', 'psycopg3', TRANSACTION_SCOPE),
    Mode('stock0-pg2', 'stock CONN_MAX_AGE=0', 'psycopg2', 'stock0'),
    Mode('persistent-pg2', 'stock persistent', 'psycopg2', 'persistent'),
    Mode('pgpool2-pg2', 'django-postgrespool2', 'psycopg2', 'pgpool2', venv='pgpool2'),
    Mode('dbpool-pg2', 'dbpool (default)', 'psycopg2', 'dbpool'),
    Mode('dbpool-full-pg2', "dbpool RESET_ON_RETURN='full'", 'psycopg2', 'dbpool-full'),
    Mode('dbpool-rollback-pg2', "dbpool RESET_ON_RETURN='rollback'", 'psycopg2',
         'dbpool-rollback'),
    Mode('dbpool-tx-pg2', 'dbpool (transaction scope)', 'psycopg2', TRANSACTION_SCOPE),
    # Under gevent (monkey-patched; psycopg2 through psycogreen).
    Mode('gevent-geventpool-pg3', 'django-db-geventpool, gevent', 'psycopg3', 'geventpool',
         gevent=True),
    Mode('gevent-dbpool-pg3', 'dbpool (default), gevent', 'psycopg3', 'dbpool', gevent=True),
    Mode('gevent-geventpool-pg2', 'django-db-geventpool, gevent', 'psycopg2', 'geventpool',
         gevent=True),
    Mode('gevent-dbpool-pg2', 'dbpool (default), gevent', 'psycopg2', 'dbpool', gevent=True),
    Mode('gevent-dbpool-tx-pg3', 'dbpool (transaction scope), gevent', 'psycopg3',
         TRANSACTION_SCOPE, gevent=True),
    Mode('gevent-dbpool-tx-pg2', 'dbpool (transaction scope), gevent', 'psycopg2',
         TRANSACTION_SCOPE, gevent=True),
)

BY_NAME = dict((mode.name, mode) for mode in MODES)
POOLS = ('djpool', 'djdbconnpool', 'pgpool2', 'geventpool') + OURS


def baseline_for(mode):
    """The stock persistent mode on ``mode``'s driver: every ratio's denominator.

    Under gevent there is none (stock Django opens a connection per
    greenlet): g100 has no ratio, only its comparison with django-db-geventpool.
    """
    return BY_NAME['persistent-' + mode.name.rsplit('-', 1)[1]]


def request_scope_for(mode):
    """The request-scope (default) dbpool mode of ``mode``'s driver and worker kind."""
    return BY_NAME[mode.name.replace(TRANSACTION_SCOPE + '-', 'dbpool-')]


def view_path(alias):
    """The URL pattern (alias, item number) of the view a scenario's requests call."""
    if alias in PAGE_SCENARIOS:
        return '/page/%s/%d/'
    if alias in SLOW_SCENARIOS:
        return '/slow/%s/%d/'
    return '/bench/%s/%d/'


def scenario_sizes(environ):
    """alias -> (threads, connections): SCENARIOS, changed by ``BENCH_SIZES``.

    ``BENCH_SIZES='slow=32/6,s8=8/4'`` gives the slow view 32 threads on 6
    connections and 8t/8c 4 connections, in the worker that reads it.
    """
    sizes = dict((alias, (threads, conns)) for alias, threads, conns in SCENARIOS)
    for item in environ.get('BENCH_SIZES', '').split(','):
        if not item.strip():
            continue
        alias, _, size = item.partition('=')
        threads, _, conns = size.partition('/')
        if alias.strip() not in sizes or not threads.isdigit() or not conns.isdigit():
            raise ValueError('BENCH_SIZES: %r is not alias=threads/connections of a scenario'
                             % item)
        sizes[alias.strip()] = (int(threads), int(conns))
    return sizes
