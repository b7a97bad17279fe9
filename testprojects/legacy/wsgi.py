"""WSGI entry point of the legacy project (``application``).

Django 1.4 added ``django.core.wsgi.get_wsgi_application``; Django 1.3 serves
with ``WSGIHandler`` directly.
"""
import os

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings')

try:  # Django 1.4+
    from django.core.wsgi import get_wsgi_application
except ImportError:  # Django 1.3
    from django.core.handlers.wsgi import WSGIHandler as get_wsgi_application

application = get_wsgi_application()
