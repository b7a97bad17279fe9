"""URLs of the legacy dbpool demo project."""
try:  # Django 1.4+
    from django.conf.urls import patterns, url
except ImportError:  # Django 1.3
    from django.conf.urls.defaults import patterns, url

from catalog import views

urlpatterns = patterns('',
    url(r'^books/$', views.book_list, name='book-list'),
    url(r'^books/add/$', views.book_add, name='book-add'),
    url(r'^pool/$', views.pool_stats, name='pool-stats'),
)
