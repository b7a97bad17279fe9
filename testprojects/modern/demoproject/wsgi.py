"""WSGI entry point of the dbpool demo project (``application``)."""
from __future__ import absolute_import, division, print_function

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'demoproject.settings')

application = get_wsgi_application()
