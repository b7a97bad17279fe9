"""Test runners for Django 1.3 to 1.6 (settings.TEST_RUNNER picks one).

``LegacyTestRunner`` (Django 1.3 to 1.5) is Django's DjangoTestSuiteRunner with two fixes:

1. ``manage.py test`` without labels runs the project's own apps
   (``settings.PROJECT_APPS``), as Django 1.6's discover runner does, instead
   of every installed app: the django.contrib.auth tests of 1.3 to 1.5 need
   apps, templates and URLs this project does not have (sessions, sites, the
   login views), and fail in their dozens.

2. Django 1.3 only: its test database set-up opens a cursor (which starts a
   transaction: Django 1.3 sets the time zone on each new connection) and then
   sets ``connection.autocommit = True`` to run CREATE/DROP DATABASE.
   psycopg2 2.4.2 made that attribute refuse to change inside a transaction
   ("set_session cannot be used inside a transaction"), so stock Django 1.3
   cannot create a test database with any psycopg2-binary release. Django 1.4
   fixed it by rolling back first (ticket #16250); this runner does the same,
   for Django's stock ``postgresql_psycopg2`` ENGINE only (dbpool's ENGINE is
   left to fend for itself).

``LegacyDiscoverRunner`` (Django 1.6) is Django's DiscoverRunner with one fix:

3. The discover runner climbs from the start directory to the highest folder
   with an ``__init__.py`` and imports the tests from there: this project's
   root has one (the 1.3 layout), so its tests would import as
   ``legacy.catalog.tests``. The project directory is made the top level, so
   they import as ``catalog.tests``, as on 1.3 to 1.5.
"""
import os

import django

STOCK_ENGINE = 'django.db.backends.postgresql_psycopg2'
PROJECT_DIR = os.path.dirname(os.path.abspath(__file__))


def _rollback_then_autocommit(creation):
    def set_autocommit():
        raw = creation.connection.connection
        raw.rollback()  # end the transaction Django 1.3's cursor() began
        raw.autocommit = True
    return set_autocommit


if django.VERSION[:2] < (1, 6):
    from django.conf import settings
    from django.db import connections
    from django.test.simple import DjangoTestSuiteRunner

    class LegacyTestRunner(DjangoTestSuiteRunner):

        def build_suite(self, test_labels, extra_tests=None, **kwargs):
            test_labels = list(test_labels or settings.PROJECT_APPS)
            return super(LegacyTestRunner, self).build_suite(test_labels, extra_tests, **kwargs)

        def setup_databases(self, **kwargs):
            if django.VERSION[:2] < (1, 4):
                for alias in connections:
                    connection = connections[alias]
                    if connection.settings_dict['ENGINE'] == STOCK_ENGINE:
                        # Used by both _create_test_db and _destroy_test_db.
                        connection.creation.set_autocommit = _rollback_then_autocommit(
                            connection.creation)
            return super(LegacyTestRunner, self).setup_databases(**kwargs)

else:
    from django.test.runner import DiscoverRunner

    class LegacyDiscoverRunner(DiscoverRunner):

        def __init__(self, top_level=None, **kwargs):
            super(LegacyDiscoverRunner, self).__init__(top_level=top_level or PROJECT_DIR,
                                                       **kwargs)
