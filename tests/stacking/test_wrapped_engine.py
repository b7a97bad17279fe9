"""A wrapper stacked on the pooled ENGINE, as django-tenants is, on every Django release.

The ENGINE ``tests.stacking.schemaengine`` puts its wrapper's schema on the
session's search_path, inside Django's connect() too, and remembers that it
did until close(). Schemas dbpool_s1 and dbpool_s2 and public each hold a
dbpool_stacking_note table whose one row names the schema, so a session on
the wrong schema reads the wrong row rather than failing.
"""
from __future__ import absolute_import, division, print_function

import contextlib
import os

import pytest
from django.db import connections
from django.db.backends.signals import connection_created

from dbpool.db import signals, tasks
from tests.backends.djangocompat import extra_alias
from tests.stacking.schemaengine import base as schemaengine
from tests.support import run_in_child

ENGINE = 'tests.stacking.schemaengine'
SCHEMAS = ('dbpool_s1', 'dbpool_s2')
TABLE = 'dbpool_stacking_note'


@pytest.fixture(scope='module')
def schemas():
    """Each of SCHEMAS and public with its own TABLE and row; dropped afterwards."""
    from tests.support import Admin
    admin = Admin()
    try:
        admin.query('CREATE TABLE public.%s (name text)' % TABLE)
        admin.query("INSERT INTO public.%s VALUES ('public')" % TABLE)
        for schema in SCHEMAS:
            admin.query('CREATE SCHEMA %s' % schema)
            admin.query('CREATE TABLE %s.%s (name text)' % (schema, TABLE))
            admin.query("INSERT INTO %s.%s VALUES ('%s')" % (schema, TABLE, schema))
        yield admin
    finally:
        for schema in SCHEMAS:
            admin.query('DROP SCHEMA IF EXISTS %s CASCADE' % schema)
        admin.query('DROP TABLE IF EXISTS public.%s' % TABLE)
        admin.close()


def stacked_settings():
    # The default alias's settings, which Django completed with its defaults.
    return dict(connections['default'].settings_dict, ENGINE=ENGINE,
                OPTIONS={'MAX_CONNS': 1, 'MIN_CONNS': 0, 'POOL_TIMEOUT': 5})


def notes(wrapper):
    cursor = wrapper.cursor()
    try:
        cursor.execute('SELECT name FROM %s' % TABLE)
        return [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()


def backend_pid(wrapper):
    cursor = wrapper.cursor()
    try:
        cursor.execute('SELECT pg_backend_pid()')
        return cursor.fetchone()[0]
    finally:
        cursor.close()


@contextlib.contextmanager
def receiving(signal, receiver):
    signal.connect(receiver)
    try:
        yield
    finally:
        signal.disconnect(receiver)


def read_at_checkout(sender, connection, **kwargs):
    """A connection_checked_out receiver: what the raw session reads as the pool lends it."""
    if connection.alias == 'stacked':
        cursor = connection.connection.cursor()
        try:
            cursor.execute('SELECT name FROM %s' % TABLE)
            AT_CHECKOUT.append((connection.schema_name, [row[0] for row in cursor.fetchall()]))
        finally:
            cursor.close()


AT_CHECKOUT = []


def keep_nothing(sender, connection, **kwargs):
    """A connection_created receiver that changes no setting (django.contrib.postgres's kind)."""


@pytest.mark.parametrize('receivers', [False, True], ids=['plain', 'with-receiver'])
def test_a_checkout_never_starts_on_the_schema_of_the_wrapper_that_opened_the_connection(
        schemas, receivers):
    del AT_CHECKOUT[:]
    schemaengine.CONNECTED_ALIASES.clear()
    reads = []
    with _maybe(receivers):
        with receiving(signals.connection_checked_out, read_at_checkout):
            with extra_alias('stacked', stacked_settings()) as wrapper:
                for index in range(6):
                    wrapper.set_schema(SCHEMAS[index % 2])
                    reads.append((wrapper.schema_name, notes(wrapper), backend_pid(wrapper)))
                    wrapper.close()
    assert [(schema, seen) for schema, seen, _ in reads] == [
        (schema, [schema]) for schema in SCHEMAS * 3]
    assert len(set(pid for _, _, pid in reads)) == 1  # one session, taking turns
    # The first borrower connected on dbpool_s1 (set inside connect() from
    # Django 1.6, which has init_connection_state); everyone after starts on
    # the session's default search_path, never on dbpool_s1.
    assert AT_CHECKOUT[0] in [('dbpool_s1', ['dbpool_s1']), ('dbpool_s1', ['public'])]
    assert AT_CHECKOUT[1:] == [(schema, ['public']) for schema in (SCHEMAS * 3)[1:]]


@contextlib.contextmanager
def _maybe(receivers):
    if not receivers:
        yield
        return
    with receiving(connection_created, keep_nothing):
        yield


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork')
@pytest.mark.parametrize('forget_first', [False, True],
                         ids=['at-first-query', 'after-forget_inherited_connections'])
def test_a_forked_child_reads_its_wrappers_schema_and_leaves_the_parents_session(
        schemas, forget_first):
    with extra_alias('stacked', stacked_settings()) as wrapper:
        wrapper.set_schema('dbpool_s1')
        assert notes(wrapper) == ['dbpool_s1']
        parent_backend = backend_pid(wrapper)  # checked out across the fork

        def in_child():
            if forget_first:  # what Celery's worker_process_init does (connect_celery)
                tasks.forget_inherited_connections(sender=None)
            child = connections['stacked']
            return '%s %s' % (','.join(notes(child)), backend_pid(child))

        _, reply = run_in_child(in_child)
        seen, child_backend = reply.split()
        assert seen == 'dbpool_s1', reply
        assert int(child_backend) != parent_backend
        assert backend_pid(wrapper) == parent_backend  # the parent's session, intact
        assert notes(wrapper) == ['dbpool_s1']
