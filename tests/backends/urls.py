from __future__ import absolute_import, division, print_function

from django.db import connection
from django.http import HttpResponse
from django.urls import path


def backend_pid(request):
    with connection.cursor() as cursor:
        cursor.execute('SELECT pg_backend_pid()')
        return HttpResponse(str(cursor.fetchone()[0]))


urlpatterns = [path('pid/', backend_pid)]
