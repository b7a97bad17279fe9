"""GeoDjango through the pooled PostGIS ENGINE, under Django's own test runner."""
from __future__ import absolute_import, division, print_function

import threading

from django.contrib.gis.geos import Point, Polygon
from django.contrib.gis.measure import D
from django.db import connection, connections
from django.test import TestCase, TransactionTestCase

import dbpool
from places.models import SRID, Place, Zone

MAX_CONNS = 4  # gissettings


def square(x0, y0, size):
    return Polygon(((x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size),
                    (x0, y0)), srid=SRID)


def names(queryset):
    return sorted(queryset.values_list('name', flat=True))


def backend_pid():
    cursor = connection.cursor()
    try:
        cursor.execute('SELECT pg_backend_pid()')
        return cursor.fetchone()[0]
    finally:
        cursor.close()


class SpatialQueries(TestCase):

    def setUp(self):
        Place.objects.create(name='origin', location=Point(0, 0, srid=SRID))
        Place.objects.create(name='near', location=Point(300, 400, srid=SRID))  # 500 m away
        Place.objects.create(name='far', location=Point(5000, 0, srid=SRID))
        Zone.objects.create(name='block', area=square(-100, -100, 1000))

    def test_the_connection_comes_from_the_pool(self):
        backend_pid()
        self.assertTrue(connection._dbpool_entry is not None)
        self.assertEqual(type(connections['default']).__module__,
                         'dbpool.db.backends.postgis.base')

    def test_a_geometry_comes_back_as_it_was_stored(self):
        place = Place.objects.get(name='near')
        self.assertEqual((place.location.x, place.location.y, place.location.srid),
                         (300.0, 400.0, SRID))

    def test_distance_lookup(self):
        found = Place.objects.filter(location__distance_lte=(Point(0, 0, srid=SRID), D(m=600)))
        self.assertEqual(names(found), ['near', 'origin'])

    def test_contains_and_within_lookups(self):
        zone = Zone.objects.get(name='block')
        self.assertEqual(names(Zone.objects.filter(area__contains=Point(300, 400, srid=SRID))),
                         ['block'])
        self.assertEqual(names(Zone.objects.filter(area__contains=Point(5000, 0, srid=SRID))), [])
        self.assertEqual(names(Place.objects.filter(location__within=zone.area)),
                         ['near', 'origin'])


class PooledThreads(TransactionTestCase):

    def test_threads_share_a_bounded_pool_of_spatial_connections(self):
        errors, pids = [], set()
        lock = threading.Lock()

        def work(number):
            try:
                for step in range(5):
                    Place.objects.create(name='t%d-%d' % (number, step),
                                         location=Point(number * 10, step * 10, srid=SRID))
                    Place.objects.filter(location__within=square(-1, -1, 1000)).count()
                    with lock:
                        pids.add(backend_pid())
                    connection.close()  # back to the pool, as at a request's end
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual(Place.objects.filter(location__within=square(-1, -1, 1000)).count(), 40)
        # 40 checkouts served by at most MAX_CONNS server sessions.
        self.assertTrue(1 <= len(pids) <= MAX_CONNS, pids)
        stats = [s for s in dbpool.pool_stats() if s['dbname'] == connection.settings_dict['NAME']]
        self.assertEqual(len(stats), 1, stats)
        self.assertTrue(stats[0]['checkouts'] >= 40, stats)
        self.assertTrue(stats[0]['connections_created'] <= MAX_CONNS, stats)
