from __future__ import absolute_import, division, print_function

import uuid

import pytest

from dbpool import registry, tracking
from dbpool.options import parse_pool_options
from dbpool.pool import ConnectionPool
from tests.support import Admin, available_drivers, connect_kwargs, database

BASE_OPTIONS = {'MAX_CONNS': 4, 'MIN_CONNS': 0, 'POOL_TIMEOUT': 5}


@pytest.fixture(params=available_drivers(), ids=lambda driver: driver.__name__)
def driver(request):
    """Every contract test runs on each installed driver."""
    return request.param


@pytest.fixture
def app_name():
    """A unique application_name, so a test can find its own sessions."""
    return 'dbpool-test-%s' % uuid.uuid4().hex[:12]


@pytest.fixture
def admin():
    admin = Admin()
    yield admin
    admin.close()


class PoolFactory(object):
    """Makes pools on the server under test and closes them afterwards."""

    def __init__(self, driver, app_name, settings_dict=None, **connect_extra):
        self.connect_extra = connect_extra
        self.driver = driver
        self.app_name = app_name
        self.settings_dict = settings_dict or database()
        self.pools = []
        self.connects = 0

    def connect(self):
        self.connects += 1
        kwargs = connect_kwargs(self.settings_dict, self.app_name)
        if self.driver.__name__ == 'psycopg2':
            # As the Django layer opens them: with cursors the pool can track.
            kwargs['connection_factory'] = tracking.psycopg2_connection_factory()
        kwargs.update(self.connect_extra)
        return self.driver.connect(**kwargs)

    def __call__(self, time_zone='UTC', **options):
        values = dict(BASE_OPTIONS, **options)
        parsed = parse_pool_options(values, 'the test')
        pool = ConnectionPool(self.connect, parsed, name='test pool', label='test',
                              time_zone=time_zone)
        self.pools.append(pool)
        return pool

    def close(self):
        for pool in self.pools:
            pool.close()


@pytest.fixture
def make_pool(driver, app_name):
    factory = PoolFactory(driver, app_name)
    yield factory
    factory.close()
    registry.close_pools()


@pytest.fixture
def registered(make_pool):
    """Make a pool through the process registry, as the Django layer makes them."""
    def make(**options):
        label = 'registered-%s' % uuid.uuid4().hex[:8]

        def create():
            pool = make_pool(**options)
            pool.label = label
            return pool
        return registry.get_pool((label, (), None), label, create)
    return make


def run_sql(connection, sql, params=None):
    """Execute on a raw cursor; the first column of the first row, if any."""
    cursor = connection.cursor()
    try:
        cursor.execute(sql, params)
        if cursor.description is None:
            return None
        row = cursor.fetchone()
        return row[0] if row else None
    finally:
        cursor.close()


def backend_pid(connection):
    return run_sql(connection, 'SELECT pg_backend_pid()')


@pytest.fixture(scope='session')
def server_time_zone():
    """The server's default TimeZone, as a fresh session reports it."""
    admin = Admin()
    try:
        return admin.query('SHOW TimeZone')[0][0]
    finally:
        admin.close()
