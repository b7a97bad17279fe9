"""ASGI entry point of the dbpool demo project (``application``; Django 3.0+).

Serve it with uvicorn or daphne: ``uvicorn demoproject.asgi:application``.
Sync views run in asgiref's thread pool, each request in a thread of its
own, and check connections out of the same per-process pool as under WSGI.
"""
from __future__ import absolute_import, division, print_function

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'demoproject.settings')

application = get_asgi_application()
