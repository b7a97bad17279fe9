"""URLs of the dbpool demo project."""
from __future__ import absolute_import, division, print_function

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
