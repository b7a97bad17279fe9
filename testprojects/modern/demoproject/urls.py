"""URLs of the dbpool demo project."""
from __future__ import absolute_import, division, print_function

from django.urls import path

from shop import views

urlpatterns = [
    path('items/', views.item_list, name='item-list'),
    path('items/add/', views.item_add, name='item-add'),
    path('pool/', views.pool_stats, name='pool-stats'),
]
