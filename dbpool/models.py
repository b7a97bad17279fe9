"""Imported by Django when ``'dbpool'`` is in INSTALLED_APPS; dbpool has no models.

Every release from 1.3 to 6.1 imports an installed app's ``models`` module
while it loads the apps, and 1.3 to 1.6 know no AppConfig, so this is the
one place that works on all of them to register the system checks (1.7+;
see dbpool.db.checks). Importing it requires Django; the pool core never does.
"""
from __future__ import absolute_import, division, print_function

from dbpool.db import checks

checks.register_checks()
