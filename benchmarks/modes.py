"""The modes compare.py measures: a Django ENGINE and its settings, on one driver.

Every mode builds DATABASES for the same aliases, one per load scenario, so
one worker process runs every scenario against its own pool size:

- ``s1``: 1 thread, 1 connection;
- ``s8``: 8 threads, 8 connections;
- ``s32``: 32 threads, 8 connections (stock Django cannot cap it: one
  connection per thread);
- ``page``: 8 threads, 8 connections, each request a realistic page;
- ``g100``: 100 greenlets, 8 connections, in a gevent-patched worker (the
  gevent modes only; stock Django would open a connection per greenlet).

Each alias sets its own ``application_name`` (``bench-<alias>``), so the
sampler counts each scenario's server connections apart.
"""
from __future__ import absolute_import, division, print_function

# alias -> (client threads, connections the pool may hold). 'page' is the
# realistic page (benchsite.views.page: about ten ORM queries, some in
# atomic(), a template); the others request one small query.
SCENARIOS = (('s1', 1, 1), ('s8', 8, 8), ('s32', 32, 8), ('page', 8, 8), ('g100', 100, 8))
PAGE_SCENARIOS = frozenset(['page'])
# Run by the gevent modes only, whose worker is monkey-patched: its
# "threads" are greenlets.
GEVENT_SCENARIOS = frozenset(['g100'])
APP_PREFIX = 'bench-'
DBPOOL_ENGINE = 'dbpool.db.backends.postgresql'
# Our families: the default (RESET_ON_RETURN='auto'), then 'full' and 'rollback'.
OURS = ('dbpool', 'dbpool-full', 'dbpool-rollback')
STOCK_ENGINE = 'django.db.backends.postgresql'


class Mode(object):
    """One way of connecting Django to PostgreSQL."""

    def __init__(self, name, label, driver, family, venv='main', gevent=False):
        self.name = name          # command-line and JSON key
        self.label = label        # for the table and the chart
        self.driver = driver      # 'psycopg3' or 'psycopg2'
        self.family = family      # stock0, persistent, djpool, djdbconnpool, pgpool2,
        #                           geventpool, dbpool, dbpool-full, dbpool-rollback
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
            if family != 'dbpool':  # the default: RESET_ON_RETURN='auto'
                options['RESET_ON_RETURN'] = family.split('-', 1)[1]
        return settings

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
    Mode('stock0-pg2', 'stock CONN_MAX_AGE=0', 'psycopg2', 'stock0'),
    Mode('persistent-pg2', 'stock persistent', 'psycopg2', 'persistent'),
    Mode('pgpool2-pg2', 'django-postgrespool2', 'psycopg2', 'pgpool2', venv='pgpool2'),
    Mode('dbpool-pg2', 'dbpool (default)', 'psycopg2', 'dbpool'),
    Mode('dbpool-full-pg2', "dbpool RESET_ON_RETURN='full'", 'psycopg2', 'dbpool-full'),
    Mode('dbpool-rollback-pg2', "dbpool RESET_ON_RETURN='rollback'", 'psycopg2',
         'dbpool-rollback'),
    # Under gevent (monkey-patched; psycopg2 through psycogreen).
    Mode('gevent-geventpool-pg3', 'django-db-geventpool, gevent', 'psycopg3', 'geventpool',
         gevent=True),
    Mode('gevent-dbpool-pg3', 'dbpool (default), gevent', 'psycopg3', 'dbpool', gevent=True),
    Mode('gevent-geventpool-pg2', 'django-db-geventpool, gevent', 'psycopg2', 'geventpool',
         gevent=True),
    Mode('gevent-dbpool-pg2', 'dbpool (default), gevent', 'psycopg2', 'dbpool', gevent=True),
)

BY_NAME = dict((mode.name, mode) for mode in MODES)
POOLS = ('djpool', 'djdbconnpool', 'pgpool2', 'geventpool') + OURS


def baseline_for(mode):
    """The stock persistent mode on ``mode``'s driver: every ratio's denominator.

    Under gevent there is none (stock Django opens a connection per
    greenlet): g100 has no ratio, only its comparison with django-db-geventpool.
    """
    return BY_NAME['persistent-' + mode.name.rsplit('-', 1)[1]]
