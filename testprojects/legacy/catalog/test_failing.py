"""A test that fails on purpose when DBPOOL_FAIL_ON_PURPOSE=1.

It proves the test database is still destroyed when a run fails, even with
connections to it open: ``DBPOOL_FAIL_ON_PURPOSE=1 manage.py test --noinput``
must exit 1 and leave no ``test_*`` database behind. Django 1.3 to 1.5 run it
through ``catalog/tests.py``, which imports it; 1.6 discovers it.
"""
import os

from django.test import TestCase

from catalog.models import Book


class FailOnPurposeTests(TestCase):

    def test_fails_only_on_purpose(self):
        # Touch the test database first, so a connection to it is open.
        Book.objects.create(title='doomed', copies=1)
        self.assertEqual(Book.objects.count(), 1)
        if os.environ.get('DBPOOL_FAIL_ON_PURPOSE') == '1':
            self.fail('failing on purpose (DBPOOL_FAIL_ON_PURPOSE=1)')
