"""A test that fails on purpose when DBPOOL_FAIL_ON_PURPOSE=1.

It proves the test database is still destroyed when a run fails, even with
pooled connections to it open: ``DBPOOL_FAIL_ON_PURPOSE=1 manage.py test``
must exit 1 and leave no ``test_*`` database behind.
"""
from __future__ import absolute_import, division, print_function

import os

from django.test import TestCase

from shop.models import Item


class FailOnPurposeTests(TestCase):

    def test_fails_only_on_purpose(self):
        # Touch the test database first, so a pooled connection to it is open.
        Item.objects.create(name='doomed', quantity=1)
        self.assertEqual(Item.objects.count(), 1)
        if os.environ.get('DBPOOL_FAIL_ON_PURPOSE') == '1':
            self.fail('failing on purpose (DBPOOL_FAIL_ON_PURPOSE=1)')
