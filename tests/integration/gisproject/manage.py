#!/usr/bin/env python
"""manage.py of the GeoDjango test project (Django 1.3 to 6.1)."""
from __future__ import absolute_import, division, print_function

import os
import sys

if __name__ == '__main__':
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'gissettings')
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
