"""What test_django_tenants.py runs in a child process: ``python scenarios.py NAME``.

Each scenario prints one JSON line (its findings) last. Tenants t1 and t2
and the public schema each hold one note naming their schema ('setup'
makes them). A note read is the list of names the session sees in
notes_note: which schema it is on.
"""
from __future__ import absolute_import, division, print_function

import json
import os
import sys
import threading

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tenantsettings')

import django  # noqa: E402

django.setup()

from django.db import connection, connections  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from dbpool.db.signals import connection_checked_out  # noqa: E402
from notes.models import Note  # noqa: E402

TENANTS = ('t1', 't2')
ROUNDS = 4


def orm_notes():
    return sorted(Note.objects.values_list('name', flat=True))


def raw_notes(cursor):
    cursor.execute('SELECT name FROM notes_note ORDER BY name')
    return [row[0] for row in cursor.fetchall()]


def setup():
    from customers.models import Client, Domain
    public = Client(schema_name='public', name='public')
    public.save()
    Domain.objects.create(domain='public.test', tenant=public)
    Note.objects.create(name='public')
    for name in TENANTS:
        tenant = Client(schema_name=name, name=name)
        tenant.save()  # creates the schema and migrates it
        Domain.objects.create(domain='%s.test' % name, tenant=tenant)
        with schema_context(name):
            Note.objects.create(name=name)
    return {'tenants': sorted(Client.objects.values_list('schema_name', flat=True))}


def alternating():
    """Borrow for t1, t2, t1, ... and read through the ORM, a cursor and connection_checked_out."""
    at_checkout = []

    def on_checkout(sender, connection, **kwargs):
        # Before django-tenants sets this borrower's search_path: the session
        # as the pool lends it.
        cursor = connection.connection.cursor()
        try:
            at_checkout.append((connection.schema_name, raw_notes(cursor)))
        finally:
            cursor.close()

    connection_checked_out.connect(on_checkout)
    reads = []
    # The process's first connection opens while t1 is set.
    for index in range(ROUNDS * len(TENANTS)):
        name = TENANTS[index % len(TENANTS)]
        with schema_context(name):
            orm = orm_notes()
            with connection.cursor() as cursor:
                raw = raw_notes(cursor)
            reads.append({'tenant': name, 'orm': orm, 'raw': raw,
                          'backend_pid': _backend_pid()})
        connection.close()  # the end of a request or task: the checkin
    return {'reads': reads, 'at_checkout': at_checkout}


def requests():
    """GET /notes/ for t1, t2, t1, ... through the tenant middleware (Django's test client)."""
    from django.test import Client
    client = Client()
    reads = []
    statuses = []
    for index in range(ROUNDS * len(TENANTS)):
        name = TENANTS[index % len(TENANTS)]
        response = client.get('/notes/', HTTP_HOST='%s.test' % name)
        statuses.append(response.status_code)
        reads.append({'tenant': name, 'orm': json.loads(response.content)['notes']})
    return {'reads': reads, 'statuses': statuses}


def threads():
    """Eight threads, each alternating tenants, on a pool of MAX_CONNS."""
    reads = []
    errors = []
    lock = threading.Lock()

    def work(offset):
        try:
            for index in range(ROUNDS * len(TENANTS)):
                name = TENANTS[(index + offset) % len(TENANTS)]
                with schema_context(name):
                    seen = orm_notes()
                with lock:
                    reads.append({'tenant': name, 'orm': seen})
                connections['default'].close()
        except Exception as exc:  # reported to the test
            errors.append(repr(exc))
        finally:
            connections['default'].close()

    workers = [threading.Thread(target=work, args=(offset,)) for offset in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {'reads': reads, 'errors': errors}


def fork():
    """Connected on t1 across a fork: the child reads on t1, the parent keeps its session."""
    connection.set_schema('t1')
    before = orm_notes()
    parent_backend = _backend_pid()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child
        try:
            reply = {'schema_name': connection.schema_name, 'orm': orm_notes(),
                     'backend_pid': _backend_pid()}
            connection.close()
        except Exception as exc:
            reply = {'error': repr(exc)}
        os.write(write_end, json.dumps(reply).encode('utf-8'))
        os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    child_reply = json.loads(os.read(read_end, 4000).decode('utf-8'))
    os.close(read_end)
    return {'before': before, 'parent_backend': parent_backend, 'child': child_reply,
            'parent_after': orm_notes(), 'parent_backend_after': _backend_pid()}


def wrapper():
    """What the stacked wrapper is made of."""
    from dbpool.db.pooling import PoolingMixin
    wrapper_class = type(connections['default'])  # django.db.connection is a proxy
    classes = wrapper_class.__mro__
    return {'pooled': issubclass(wrapper_class, PoolingMixin),
            'classes': ['%s.%s' % (c.__module__, c.__name__) for c in classes[:2]]}


def spatial():
    """A PostGIS function on a tenant's session (ORIGINAL_BACKEND = the pooled PostGIS)."""
    with schema_context('t2'):
        with connection.cursor() as cursor:
            cursor.execute('SELECT ST_AsText(ST_MakePoint(1, 2))')
            point = cursor.fetchone()[0]
        seen = orm_notes()
    return dict(wrapper(), point=point, orm=seen, postgis=bool(connection.ops.spatial_version))


def _backend_pid():
    with connection.cursor() as cursor:
        cursor.execute('SELECT pg_backend_pid()')
        return cursor.fetchone()[0]


if __name__ == '__main__':
    print(json.dumps(globals()[sys.argv[1]]()))
