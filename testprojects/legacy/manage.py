#!/usr/bin/env python
"""manage.py of the legacy project (Django 1.3 layout; runs on Django 1.3 to 1.6).

Django 1.3's own template calls ``execute_manager(settings)``, which imports
this directory as the package ``legacy`` and sets DJANGO_SETTINGS_MODULE to
``legacy.settings``. That function is deprecated in 1.4 and gone in 1.6, so
1.4+ gets the newer spelling: DJANGO_SETTINGS_MODULE=settings (this directory
is sys.path[0]) and ``execute_from_command_line``.
"""
import imp
import os
import sys

try:
    imp.find_module('settings')  # Assumed to be in the same directory.
except ImportError:
    sys.stderr.write("Error: Can't find the file 'settings.py' in the directory containing %r.\n"
                     % __file__)
    sys.exit(1)

if __name__ == '__main__':
    import django
    if django.VERSION[:2] < (1, 4):
        from django.core.management import execute_manager
        import settings
        execute_manager(settings)
    else:
        os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings')
        from django.core.management import execute_from_command_line
        execute_from_command_line(sys.argv)
