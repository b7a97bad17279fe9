"""The legacy demo's tests, run by each Django release's own ``manage.py test``.

Django 1.3 to 1.5 run the ``tests`` module of each app (and ``models``);
Django 1.6's discover runner finds every ``test*.py`` file itself.
"""
import os
import threading

try:
    import json
except ImportError:  # Python < 2.6
    from django.utils import simplejson as json

import django
from django.conf import settings
from django.db import connection, transaction
from django.test import TestCase, TransactionTestCase

try:  # what Django 1.3 to 1.6's own runner uses (unittest2, or Python 2.7's unittest)
    from django.utils import unittest
except ImportError:
    import unittest

from catalog.models import Book

try:
    import dbpool
except ImportError:
    dbpool = None

if django.VERSION[:2] < (1, 6):
    # The old runner looks only here: pull in the module that fails on purpose.
    from catalog.test_failing import FailOnPurposeTests  # noqa: F401

OUR_ENGINE = 'dbpool.db.backends.postgresql_psycopg2'
MIGRATIONS = ['0001_initial', '0002_auto__add_field_book_isbn']

# Django 1.6 has atomic(); 1.3 to 1.5 have commit_on_success (a context manager since 1.3).
commit_on_success = getattr(transaction, 'atomic', None) or transaction.commit_on_success


def is_pooled():
    return connection.settings_dict['ENGINE'] in settings.POOLED_ENGINES


def own_backend_pid():
    cursor = connection.cursor()
    try:
        cursor.execute('SELECT pg_backend_pid()')
        return cursor.fetchone()[0]
    finally:
        cursor.close()


class BookTests(TestCase):
    """ORM and views inside the per-test transaction."""

    def test_orm_create_and_read(self):
        Book.objects.create(title='Emma', copies=3)
        Book.objects.create(title='Ulysses', copies=5, isbn='978-0')
        self.assertEqual(Book.objects.count(), 2)
        self.assertEqual(sorted(Book.objects.values_list('title', flat=True)),
                         ['Emma', 'Ulysses'])
        book = Book.objects.get(title='Ulysses')
        self.assertEqual((book.copies, book.isbn), (5, '978-0'))
        self.assertTrue(book.added is not None)

    def test_book_list_view(self):
        Book.objects.create(title='Emma', copies=3)
        response = self.client.get('/books/')
        self.assertEqual(response.status_code, 200)
        data = json.loads(response.content.decode('utf-8'))
        self.assertEqual(data['count'], 1)
        self.assertEqual(data['latest'][0]['title'], 'Emma')
        # The test client runs the view in this thread, on this connection.
        self.assertEqual(data['backend_pid'], own_backend_pid())

    def test_book_add_view(self):
        response = self.client.post('/books/add/', {'title': 'Dubliners', 'copies': '4',
                                                     'isbn': '978-1'})
        self.assertEqual(response.status_code, 201)
        data = json.loads(response.content.decode('utf-8'))
        self.assertEqual(data['book']['title'], 'Dubliners')
        self.assertTrue(Book.objects.filter(title='Dubliners', copies=4, isbn='978-1').exists())

    def test_book_add_view_rejects_bad_input(self):
        response = self.client.post('/books/add/', {'title': 'x', 'copies': 'many'})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(Book.objects.count(), 0)

    def test_pool_view(self):
        response = self.client.get('/pool/')
        self.assertEqual(response.status_code, 200)
        data = json.loads(response.content.decode('utf-8'))
        self.assertTrue(isinstance(data, list), data)
        if is_pooled():
            names = [pool['dbname'] for pool in data]
            self.assertTrue(connection.settings_dict['NAME'] in names, names)


class SouthMigrationTests(TestCase):
    """SOUTH_TESTS_MIGRATE: the test database was built by the migrations."""

    def test_the_field_added_by_0002_exists(self):
        cursor = connection.cursor()
        try:
            columns = [row[0] for row in
                       connection.introspection.get_table_description(cursor, 'catalog_book')]
        finally:
            cursor.close()
        self.assertTrue('isbn' in columns, columns)

    def test_south_recorded_both_migrations(self):
        from south.models import MigrationHistory
        applied = sorted(MigrationHistory.objects.filter(app_name='catalog')
                         .values_list('migration', flat=True))
        self.assertEqual(applied, MIGRATIONS)


class ThreadTests(TransactionTestCase):
    """Rows committed by other threads, each on its own connection, closed after."""

    def run_in_threads(self, count):
        errors = []
        pids = []
        lock = threading.Lock()

        def work(index):
            try:
                with commit_on_success():
                    Book.objects.create(title='thread-%d' % index, copies=index)
                pid = own_backend_pid()
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
        self.assertEqual(Book.objects.count(), 0)
        pids = self.run_in_threads(1)
        self.assertEqual(len(pids), 1)
        self.assertEqual(list(Book.objects.values_list('title', flat=True)), ['thread-0'])

    def test_more_threads_than_connections(self):
        # Twice MAX_CONNS threads: with the pool some must wait for a connection.
        count = 2 * int(connection.settings_dict['OPTIONS'].get('MAX_CONNS', 4))
        self.assertEqual(Book.objects.count(), 0)
        pids = self.run_in_threads(count)
        self.assertEqual(Book.objects.count(), count)
        if is_pooled():
            self.assertTrue(len(set(pids)) <= connection.settings_dict['OPTIONS']['MAX_CONNS'],
                            pids)


class ConfigurationTests(TestCase):

    @unittest.skipIf(os.environ.get('DBPOOL_ENGINE'), 'DBPOOL_ENGINE is set')
    def test_engine_is_dbpool_by_default(self):
        self.assertEqual(connection.settings_dict['ENGINE'], OUR_ENGINE)
        self.assertEqual(connection.vendor, 'postgresql')

    def test_application_name(self):
        cursor = connection.cursor()
        try:
            cursor.execute('SHOW application_name')
            self.assertEqual(cursor.fetchone()[0], settings.APPLICATION_NAME)
        finally:
            cursor.close()

    def test_test_database_name(self):
        name = connection.settings_dict['NAME']
        self.assertTrue(name.startswith('test_'), name)
        cursor = connection.cursor()
        try:
            cursor.execute('SELECT current_database()')
            self.assertEqual(cursor.fetchone()[0], name)
        finally:
            cursor.close()

    def test_django_version_matches_env(self):
        expected = os.environ.get('DBPOOL_EXPECT_DJANGO')
        if not expected:
            self.skipTest('DBPOOL_EXPECT_DJANGO is not set (e.g. DBPOOL_EXPECT_DJANGO=1.3 '
                          'checks that Django 1.3.x runs these tests)')
        wanted = tuple(int(part) for part in expected.strip().split('.')[:2])
        self.assertEqual(django.VERSION[:2], wanted,
                         'DBPOOL_EXPECT_DJANGO=%s but Django %s is installed'
                         % (expected, django.get_version()))
