from __future__ import absolute_import, division, print_function

from django.db import connection
from django.http import HttpResponse

try:
    from django.urls import re_path as url  # 2.0+
except ImportError:
    try:
        from django.conf.urls import url  # 1.4-1.11
    except ImportError:
        from django.conf.urls.defaults import url  # 1.3


def backend_pid(request):
    cursor = connection.cursor()
    try:
        cursor.execute('SELECT pg_backend_pid()')
        return HttpResponse(str(cursor.fetchone()[0]))
    finally:
        cursor.close()


urlpatterns = [url(r'^pid/$', backend_pid)]
