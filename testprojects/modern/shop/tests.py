"""The demo's tests, run by each Django release's own ``manage.py test``."""
from __future__ import absolute_import, division, print_function

import json
import os
import threading
import unittest

import django
from django.conf import settings
from django.db import connection, transaction
from django.test import TestCase, TransactionTestCase

import dbpool

from shop.models import Item

OUR_ENGINE = 'dbpool.db.backends.postgresql'


def is_pooled():
    return connection.settings_dict['ENGINE'] in settings.POOLED_ENGINES


def pools_of_this_database():
    name = connection.settings_dict['NAME']
    return [s for s in dbpool.pool_stats() if s['alias'] == connection.alias and s['dbname'] == name]


class ItemTests(TestCase):
    """ORM and views inside the per-test transaction."""

    def test_orm_create_and_read(self):
        Item.objects.create(name='apple', quantity=3)
        Item.objects.create(name='pear', quantity=5)
        self.assertEqual(Item.objects.count(), 2)
        self.assertEqual(sorted(Item.objects.values_list('name', flat=True)), ['apple', 'pear'])
        self.assertEqual(Item.objects.get(name='pear').quantity, 5)

    def test_item_list_view(self):
        Item.objects.create(name='apple', quantity=3)
        response = self.client.get('/items/')
        self.assertEqual(response.status_code, 200)
        data = json.loads(response.content.decode('utf-8'))
        self.assertEqual(data['count'], 1)
        self.assertEqual(data['latest'][0]['name'], 'apple')
        with connection.cursor() as cursor:
            cursor.execute('SELECT pg_backend_pid()')
            own_pid = cursor.fetchone()[0]
        # The test client runs the view in this thread, on this connection.
        self.assertEqual(data['backend_pid'], own_pid)

    def test_item_add_view(self):
        response = self.client.post('/items/add/', {'name': 'plum', 'quantity': '4'})
        self.assertEqual(response.status_code, 201)
        data = json.loads(response.content.decode('utf-8'))
        self.assertEqual(data['item']['name'], 'plum')
        self.assertTrue(Item.objects.filter(name='plum', quantity=4).exists())

    def test_pool_view(self):
        response = self.client.get('/pool/')
        self.assertEqual(response.status_code, 200)
        data = json.loads(response.content.decode('utf-8'))
        self.assertIsInstance(data, list)
        if is_pooled():
            names = [pool['dbname'] for pool in data]
            self.assertIn(connection.settings_dict['NAME'], names)


class ThreadTests(TransactionTestCase):
    """Rows committed by other threads, each on its own pooled connection."""

    def run_in_threads(self, count):
        errors = []
        pids = []
        lock = threading.Lock()

        def work(index):
            try:
                with transaction.atomic():
                    Item.objects.create(name='thread-%d' % index, quantity=index)
                with connection.cursor() as cursor:
                    cursor.execute('SELECT pg_backend_pid()')
                    pid = cursor.fetchone()[0]
                with lock:
                    pids.append(pid)
            except Exception as exc:  # reported by the test thread below
                with lock:
                    errors.append(repr(exc))
            finally:
                connection.close()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
            self.assertFalse(thread.is_alive(), 'a worker thread hung')
        self.assertEqual(errors, [])
        return pids

    def test_row_committed_by_another_thread_is_visible(self):
        self.assertEqual(Item.objects.count(), 0)
        pids = self.run_in_threads(1)
        self.assertEqual(len(pids), 1)
        self.assertEqual(list(Item.objects.values_list('name', flat=True)), ['thread-0'])

    def test_more_threads_than_connections(self):
        # Twice MAX_CONNS threads: some must wait for a connection to come back.
        count = 2 * int(connection.settings_dict['OPTIONS'].get('MAX_CONNS', 4))
        self.assertEqual(Item.objects.count(), 0)
        pids = self.run_in_threads(count)
        self.assertEqual(Item.objects.count(), count)
        if is_pooled():
            max_conns = connection.settings_dict['OPTIONS']['MAX_CONNS']
            self.assertLessEqual(len(set(pids)), max_conns)
            # Every worker's connection.close() gave its connection back:
            # only this (test) thread may still hold one.
            for pool in pools_of_this_database():
                self.assertLessEqual(pool['connections_in_use'], 1, pool)
                self.assertLessEqual(pool['connections_open'], max_conns, pool)


class ConfigurationTests(TestCase):

    @unittest.skipIf(os.environ.get('DBPOOL_ENGINE'), 'DBPOOL_ENGINE is set')
    def test_engine_is_dbpool_by_default(self):
        self.assertEqual(connection.settings_dict['ENGINE'], OUR_ENGINE)
        self.assertEqual(connection.vendor, 'postgresql')

    def test_test_database_name(self):
        self.assertTrue(connection.settings_dict['NAME'].startswith('test_'),
                        connection.settings_dict['NAME'])
        with connection.cursor() as cursor:
            cursor.execute('SELECT current_database()')
            self.assertEqual(cursor.fetchone()[0], connection.settings_dict['NAME'])

    def test_django_version_matches_env(self):
        expected = os.environ.get('DBPOOL_EXPECT_DJANGO')
        if not expected:
            self.skipTest('DBPOOL_EXPECT_DJANGO is not set (e.g. DBPOOL_EXPECT_DJANGO=4.2 '
                          'checks that Django 4.2.x runs these tests)')
        wanted = tuple(int(part) for part in expected.strip().split('.')[:2])
        self.assertEqual(django.VERSION[:2], wanted,
                         'DBPOOL_EXPECT_DJANGO=%s but Django %s is installed'
                         % (expected, django.get_version()))
