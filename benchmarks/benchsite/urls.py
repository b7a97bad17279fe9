"""The demo project's URLs, and the benchmark views (the alias is part of the URL)."""
from __future__ import absolute_import, division, print_function

from django.urls import path

from benchsite import views
from demoproject.urls import urlpatterns as demo_urlpatterns

urlpatterns = list(demo_urlpatterns) + [
    path('bench/<str:alias>/<int:pk>/', views.item_detail, name='bench-item'),
    path('page/<str:alias>/<int:pk>/', views.page, name='bench-page'),
    path('slow/<str:alias>/<int:pk>/', views.slow, name='bench-slow'),
]
