"""The demo project with a slow view, served for tests/servers/test_graceful_stop.py.

``application`` is the WSGI one, ``asgi_application`` the ASGI one wrapped
in dbpool's lifespan (warm up at startup, drain at shutdown); this module
is also the URLconf (``/slow/`` beside the project's URLs). With
DBPOOL_WARM_AT_IMPORT set, importing it calls warm_up(), as an application
that warms up while it is loaded would: in a gunicorn --preload master
that must do nothing.
"""
from __future__ import absolute_import, division, print_function

import os

from django.db import connection
from django.http import JsonResponse

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tests.servers.lifecycle_settings')

SLOW_S = float(os.environ.get('DBPOOL_SLOW_S') or 0.5)


def slow(request):
    """GET /slow/: a query that takes SLOW_S seconds on the server."""
    with connection.cursor() as cursor:
        cursor.execute('SELECT pg_backend_pid() FROM pg_sleep(%s)', [SLOW_S])
        backend_pid = cursor.fetchone()[0]
    return JsonResponse({'pid': os.getpid(), 'backend_pid': backend_pid})


def _urlpatterns():
    from django.urls import path
    from demoproject.urls import urlpatterns
    return urlpatterns + [path('slow/', slow, name='slow')]


def _applications():
    from django.core.asgi import get_asgi_application
    from django.core.wsgi import get_wsgi_application
    from dbpool.db.asgi_lifespan import with_lifespan
    return get_wsgi_application(), with_lifespan(get_asgi_application())


application, asgi_application = _applications()
urlpatterns = _urlpatterns()  # once Django is set up: the project's models load here

if os.environ.get('DBPOOL_WARM_AT_IMPORT'):
    from dbpool.db import lifecycle
    lifecycle.warm_up()
