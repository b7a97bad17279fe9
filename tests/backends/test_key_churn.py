"""MAX_CONNS holds for an alias whatever its pool key does.

A wrapper whose connection parameters change at every connect (a value
rebuilt per call) makes a new pool each time. The bound is still one
MAX_CONNS of server sessions per alias, no borrower sees its pool closed
under it, and the log says which parameter keeps changing.
"""
from __future__ import absolute_import, division, print_function

import itertools
import logging

import pytest

from django.db import connection, connections

import dbpool
from tests.backends.djangocompat import close_all
from tests.support import record_closed_sessions, run_threads_and_watch


def test_a_key_that_changes_at_every_checkout_keeps_16_threads_within_max_conns(
        admin, monkeypatch, caplog):
    wrapper_class = type(connections['default'])
    # Django's own hook from 1.6; the 1.3-1.5 era builds them in ours.
    hook = ('get_connection_params' if hasattr(wrapper_class, 'get_connection_params')
            else '_dbpool_connection_params')
    numbers = itertools.count()
    original = getattr(wrapper_class, hook)

    def params_that_change(self):
        params = original(self)
        if self.alias == 'default':
            # A custom setting, different at every call: a new pool key.
            params['options'] = '-c dbpool.churn=%d' % next(numbers)
        return params

    monkeypatch.setattr(wrapper_class, hook, params_that_change)

    def work():
        try:
            for _ in range(10):
                cursor = connection.cursor()
                cursor.execute('SELECT pg_sleep(0.002)')
                cursor.close()
                connection.close()
        finally:
            close_all()

    with caplog.at_level(logging.INFO, logger='dbpool'):
        peak, errors = run_threads_and_watch(admin, 'dbpool-default', work, threads=16,
                                             closed=record_closed_sessions(monkeypatch))
    assert errors == []
    assert 1 <= peak <= 4  # the alias' MAX_CONNS
    assert "the connection key keeps changing (options)" in caplog.text
    assert sum(1 for snapshot in dbpool.pool_stats() if snapshot['alias'] == 'default') <= 1


def test_a_pool_closed_under_every_checkout_raises_a_django_error_that_says_what_to_do(
        monkeypatch):
    from dbpool.db.errors import OperationalError, PoolClosed
    from dbpool.errors import PoolClosed as CorePoolClosed
    from dbpool.pool import ConnectionPool

    def always_closed(pool, *args, **kwargs):
        raise CorePoolClosed('%s is closed' % pool.name)

    monkeypatch.setattr(ConnectionPool, 'checkout', always_closed)
    with pytest.raises(OperationalError) as raised:
        connections['tiny'].cursor()
    assert isinstance(raised.value, PoolClosed)
    message = str(raised.value)
    assert "the pool for alias 'tiny' was closed" in message
    assert 'POOL_TIMEOUT=0.3 s' in message
    assert 'Keep the alias' in message
