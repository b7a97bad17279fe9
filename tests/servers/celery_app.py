"""The Celery app of tests/servers/test_celery.py: tasks on testprojects/modern's ORM.

Run by a real ``celery worker`` (prefork) with the project's settings. The
broker and result store are folders (kombu's filesystem transport and
Celery's file result backend), so no broker server is needed. The env
var DBPOOL_CELERY_SETUP picks how connections are given back:

- ``hook``: Celery's own Django fixup off, ``dbpool.db.tasks.connect_celery()``;
- ``fixup+hook``: the usual project layout, where Celery installs its
  Django fixup by itself, plus ``connect_celery()``;
- ``none``: neither, to show what the hook is for.

At worker start (in the parent, before it forks its children) the app
opens a pooled connection and keeps it: the children must never use it.
"""
from __future__ import absolute_import, division, print_function

import os

from celery import Celery, signals

from tests.servers.celery_config import configure

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'demoproject.settings')
SETUP = os.environ.get('DBPOOL_CELERY_SETUP', 'hook')
FOLDER = os.environ['DBPOOL_CELERY_FOLDER']


# fixups=[] turns Celery's Django fixup off; None keeps Celery's default.
app = configure(Celery('dbpool_celery_test', fixups=None if SETUP == 'fixup+hook' else []),
                FOLDER)

if SETUP != 'fixup+hook':
    import django
    django.setup()  # the fixup would have done it

if SETUP in ('hook', 'fixup+hook'):
    from dbpool.db.tasks import connect_celery
    connect_celery(app)


def backend_pid():
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute('SELECT pg_backend_pid()')
        return cursor.fetchone()[0]


@signals.worker_init.connect
def hold_a_connection_in_the_parent(**kwargs):
    # Connected after the fixup's own worker_init receiver, so this
    # connection is still checked out when the parent forks its children.
    with open(os.path.join(FOLDER, 'parent_backend_pid'), 'w') as out:
        out.write('%d %d' % (os.getpid(), backend_pid()))


@app.task(name='dbpool.add_item')
def add_item(number):
    """Create an Item through the ORM; who ran it and on which server session."""
    from shop.models import Item
    import dbpool
    item = Item.objects.create(name='task-%d' % number, quantity=number)
    in_use = sum(pool['connections_in_use'] for pool in dbpool.pool_stats())
    return {'pid': os.getpid(), 'backend_pid': backend_pid(), 'item': item.pk,
            'in_use_during': in_use}


@app.task(name='dbpool.pool_state')
def pool_state():
    """This worker child's pools, without a query of its own."""
    import dbpool
    return {'pid': os.getpid(), 'pools': dbpool.pool_stats()}


@app.task(name='dbpool.sleep_in_query')
def sleep_in_query(seconds):
    """A task whose query lasts ``seconds`` (tests/servers/test_graceful_stop.py)."""
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute('SELECT pg_backend_pid() FROM pg_sleep(%s)', [seconds])
        return {'pid': os.getpid(), 'backend_pid': cursor.fetchone()[0]}
