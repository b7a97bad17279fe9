"""URLs of the dbpool demo project."""
from __future__ import absolute_import, division, print_function

import django

from shop import views

try:
    from django.urls import path  # Django 2.0+
except ImportError:
    # compat: Django 1.7 to 1.11 have only regex patterns (url() left in 4.0).
    from django.conf.urls import url

    def path(route, view, name=None):
        return url(r'^%s$' % route, view, name=name)

urlpatterns = [
    path('items/', views.item_list, name='item-list'),
    path('items/add/', views.item_add, name='item-add'),
    path('pool/', views.pool_stats, name='pool-stats'),
]

if django.VERSION >= (3, 1):
    # Async views and the per-process pool report, for tests/servers
    # (Python 3 syntax, so imported only where Django has async views).
    from shop import serving_views
    urlpatterns += [
        path('async/items/', serving_views.item_list_async, name='async-item-list'),
        path('async/direct/', serving_views.orm_direct, name='async-orm-direct'),
        path('process/', serving_views.process_state, name='process-state'),
    ]
    if django.VERSION >= (4, 1):  # the async ORM methods (acreate, aget, ...)
        urlpatterns.append(
            path('async/aorm/', serving_views.item_add_aorm, name='async-aorm'))
