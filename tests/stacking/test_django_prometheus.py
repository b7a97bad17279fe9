"""django-prometheus on the pooled backend, on a real server.

Two ways of having both: the ENGINE ``dbpool.db.backends.prometheus``
(what docs/stacking.md recommends), and the class users write first,
django-prometheus' own postgresql DatabaseWrapper stacked on ours, with
whichever django-prometheus release the cell installed (2.4 wraps the
connection's cursor class at each connect; 2.5 makes a new cursor_factory
class in every get_connection_params).

The first tests need no django-prometheus: a wrapper that makes a new
cursor_factory class per call, as 2.5 does. The others need it; in the tox
cells whose DBPOOL_REQUIRE names django-prometheus its absence fails them,
elsewhere they skip, saying so.
"""
from __future__ import absolute_import, division, print_function

import uuid

import django
import pytest
from django.db import connections

from dbpool import registry
from tests.backends.conftest import alias_settings, configure_django, request_scope_only
from tests.backends.djangocompat import close_all, extra_alias
from tests.servers.harness import require
from tests.support import Admin, run_threads_and_watch, wait_until

configure_django()  # the backend tests' settings, if nothing configured Django before

HAS_CONNECTION_HOOKS = django.VERSION[:2] >= (1, 6)
needs_hooks = pytest.mark.skipif(
    not HAS_CONNECTION_HOOKS,
    reason='get_connection_params() arrived in Django 1.6; django-prometheus needs 4.2+')

ENGINE = 'dbpool.db.backends.prometheus'
CHECKOUTS = 3000


@pytest.fixture(autouse=True)
def no_pools_left():
    yield
    close_all()
    registry.close_pools()


@pytest.fixture
def admin():
    admin = Admin()
    yield admin
    admin.close()


@pytest.fixture
def django_prometheus():
    return require('django_prometheus', 'django-prometheus')


def full_settings(engine='dbpool.db.backends.postgresql', **options):
    """A complete settings dict (Django's defaults from 'default') for an extra alias.

    MIN_CONNS=0: the pool opens connections only when a checkout needs one.
    """
    options.setdefault('MIN_CONNS', 0)
    settings_dict = dict(connections['default'].settings_dict)
    settings_dict.update(alias_settings(engine, **options))
    return settings_dict


def unique(prefix):
    return '%s_%s' % (prefix, uuid.uuid4().hex[:10])


def pools_of(alias):
    return [pool for pool in registry.all_pools() if pool.label == alias]


def run_request(wrapper, sql='SELECT 1'):
    """One request's worth: a query through Django's cursor, then the connection back."""
    cursor = wrapper.cursor()
    try:
        cursor.execute(sql)
        cursor.fetchall()
        return type(cursor.cursor)  # the driver cursor's class
    finally:
        cursor.close()
        wrapper.close()


def query_value(wrapper, sql):
    cursor = wrapper.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchone()[0]
    finally:
        cursor.close()


def class_depth(cls):
    return len(cls.__mro__)


# -- A cursor_factory made per call (what django-prometheus 2.5 does) --------------

def per_call_cursor_factory_wrapper():
    from dbpool.db.backends.postgresql import base

    class DatabaseWrapper(base.DatabaseWrapper):
        """Makes a new cursor class at every get_connection_params()."""

        def get_connection_params(self):
            conn_params = super(DatabaseWrapper, self).get_connection_params()
            plain = conn_params.get('cursor_factory') or self._dbpool_driver_cursor()
            conn_params['cursor_factory'] = type(str('PerCallCursor'), (plain,), {})
            return conn_params

        def _dbpool_driver_cursor(self):
            driver = self._dbpool_driver()
            extensions = getattr(driver, 'extensions', None)  # psycopg2
            return extensions.cursor if extensions is not None else driver.Cursor

    return DatabaseWrapper


@request_scope_only
@needs_hooks
def test_a_cursor_factory_made_per_call_uses_one_pool_and_reaches_each_borrower():
    # A thread per request, as a threaded server runs them: a new wrapper
    # each time, so every checkout goes through get_connection_params().
    alias = unique('percall')
    settings_dict = full_settings(MAX_CONNS=1)
    wrapper_class = per_call_cursor_factory_wrapper()
    classes, pids = set(), set()
    for _ in range(20):
        wrapper = wrapper_class(settings_dict, alias)
        pids.add(query_value(wrapper, 'SELECT pg_backend_pid()'))
        classes.add(run_request(wrapper))
    assert len(pids) == 1
    [pool] = pools_of(alias)
    assert pool.stats()['checkouts'] == 20
    # Each borrower's cursors are of the class its parameters named.
    assert len(classes) == 20
    assert all(any(base.__name__ == 'PerCallCursor' for base in cls.__mro__)
               for cls in classes)


# -- django-prometheus ---------------------------------------------------------

def metric(name, alias):
    """The sum of a django-prometheus counter's samples for ``alias`` (all types)."""
    from prometheus_client import REGISTRY
    total = 0.0
    for family in REGISTRY.collect():
        for sample in family.samples:
            if sample.name == name and sample.labels.get('alias') == alias:
                total += sample.value
    return total


def counts(alias):
    return dict((short, metric('django_db_%s_total' % short, alias))
                for short in ('new_connections', 'new_connection_errors', 'execute', 'errors'))


def stacked_wrapper_class():
    """django-prometheus' own postgresql DatabaseWrapper stacked on ours, as users write it."""
    from django_prometheus.db.backends.postgresql import base as prometheus_base

    from dbpool.db.backends.postgresql import base

    class DatabaseWrapper(prometheus_base.DatabaseWrapper, base.DatabaseWrapper):
        """django-prometheus' metrics, dbpool's connections."""

    return DatabaseWrapper


def test_django_prometheus_own_backend_on_ours_keeps_one_cursor_depth_over_3000_checkouts(
        django_prometheus):
    # MAX_CONNS=1 and a full reset at each return: every checkout is of the
    # same connection, through Django's connect(), in a new wrapper (a
    # thread per request), so django-prometheus' code runs each time.
    alias = unique('stacked')
    settings_dict = full_settings(MAX_CONNS=1, RESET_ON_RETURN='full')
    wrapper_class = stacked_wrapper_class()
    depths = set()
    for _ in range(CHECKOUTS):
        depths.add(class_depth(run_request(wrapper_class(settings_dict, alias))))
    assert len(depths) == 1
    [pool] = pools_of(alias)
    stats = pool.stats()
    assert stats['checkouts'] == CHECKOUTS
    assert stats['connections_created'] == 1
    assert metric('django_db_execute_total', alias) >= CHECKOUTS
    assert metric('django_db_errors_total', alias) == 0


def test_django_prometheus_own_backend_on_ours_stays_within_max_conns_under_threads(
        django_prometheus, admin):
    alias = unique('stacked')
    application_name = unique('dbpool-prom')
    settings_dict = full_settings(MAX_CONNS=4, POOL_TIMEOUT=10,
                                  application_name=application_name)
    wrapper_class = stacked_wrapper_class()

    def work():
        for _ in range(40):
            run_request(wrapper_class(settings_dict, alias), 'SELECT pg_sleep(0.001)')

    peak, errors = run_threads_and_watch(admin, application_name, work, threads=8)
    assert errors == []
    assert 1 <= peak <= 4
    [pool] = pools_of(alias)
    assert pool.stats()['checkouts'] == 8 * 40
    assert pool.stats()['connections_created'] <= 4


def test_the_prometheus_engine_counts_each_statement_the_application_runs_and_no_reset(
        django_prometheus):
    alias = unique('prom')
    with extra_alias(alias, full_settings(ENGINE, MAX_CONNS=2, RESET_ON_RETURN='full')) as wrapper:
        before = counts(alias)
        for _ in range(25):
            run_request(wrapper)
        after = counts(alias)
        [pool] = pools_of(alias)
        assert pool.stats()['resets'] == 25  # the pool's reset ran at every return
    assert after['execute'] - before['execute'] == 25
    assert after['new_connections'] - before['new_connections'] == 1
    assert after['errors'] == before['errors']


def test_the_prometheus_engine_counts_physical_connections_as_new_connections(
        django_prometheus, admin):
    alias = unique('prom')
    application_name = unique('dbpool-prom')
    with extra_alias(alias, full_settings(ENGINE, MAX_CONNS=2,
                                          application_name=application_name)) as wrapper:
        before = counts(alias)
        for _ in range(10):
            run_request(wrapper)
        assert admin.terminate(application_name) == 1
        assert wait_until(lambda: not admin.backend_pids(application_name))
        for _ in range(10):
            run_request(wrapper)
        after = counts(alias)
        [pool] = pools_of(alias)
        created = pool.stats()['connections_created']
    assert created == 2
    assert after['new_connections'] - before['new_connections'] == created
    assert after['new_connection_errors'] == before['new_connection_errors']


def test_the_prometheus_engine_counts_a_failing_statement_as_an_error(django_prometheus):
    from django.db import DatabaseError
    alias = unique('prom')
    with extra_alias(alias, full_settings(ENGINE, MAX_CONNS=1)) as wrapper:
        before = counts(alias)
        with pytest.raises(DatabaseError):
            run_request(wrapper, 'SELECT * FROM dbpool_no_such_table')
        run_request(wrapper)
        after = counts(alias)
    assert after['errors'] - before['errors'] == 1
    assert after['execute'] - before['execute'] == 2


def test_the_prometheus_engine_keeps_one_cursor_depth_over_3000_checkouts_within_max_conns(
        django_prometheus):
    alias = unique('prom')
    with extra_alias(alias, full_settings(ENGINE, MAX_CONNS=1, RESET_ON_RETURN='full')) as wrapper:
        before = counts(alias)
        depths = set(class_depth(run_request(wrapper)) for _ in range(CHECKOUTS))
        after = counts(alias)
        [pool] = pools_of(alias)
        stats = pool.stats()
    assert len(depths) == 1
    assert stats['checkouts'] == CHECKOUTS and stats['connections_created'] == 1
    assert after['execute'] - before['execute'] == CHECKOUTS
    assert after['errors'] == before['errors']


def test_the_prometheus_engine_stays_within_max_conns_under_threads(django_prometheus, admin):
    alias = unique('prom')
    application_name = unique('dbpool-prom')
    settings_dict = full_settings(ENGINE, MAX_CONNS=4, POOL_TIMEOUT=10,
                                  application_name=application_name)
    with extra_alias(alias, settings_dict):
        before = counts(alias)

        def work():
            try:
                for _ in range(40):
                    run_request(connections[alias], 'SELECT pg_sleep(0.001)')
            finally:
                connections[alias].close()

        peak, errors = run_threads_and_watch(admin, application_name, work, threads=8)
        after = counts(alias)
        [pool] = pools_of(alias)
        created = pool.stats()['connections_created']
    assert errors == []
    assert 1 <= peak <= 4
    assert after['execute'] - before['execute'] == 8 * 40
    assert after['new_connections'] - before['new_connections'] == created <= 4
