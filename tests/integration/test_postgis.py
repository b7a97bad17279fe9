"""The pooled PostGIS ENGINE (dbpool.db.backends.postgis) on a real PostGIS.

Runs the GeoDjango project in gisproject/ in a child process (GeoDjango
needs its own settings): Django's test runner with a geometry model, spatial
lookups and threads (places/tests.py), and migrate (syncdb before 1.7) on a
fresh database. PostGIS and the GEOS/GDAL libraries come from
``scripts/lib.sh``'s ``ensure_postgis``; where tox sets
``DBPOOL_REQUIRE=postgis`` their absence fails, elsewhere it skips.
"""
from __future__ import absolute_import, division, print_function

import ctypes.util
import os
import subprocess
import sys

import django
import pytest

from tests.integration.required import need
from tests.support import Admin, database

try:
    from urllib.parse import quote
except ImportError:  # Python 2
    from urllib import quote

PROJECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gisproject')
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RELEASE = django.VERSION[:2]
# GeoDjango 1.3 and 1.4 predate PostGIS 2.0 (Debian 12 ships 3.3): their
# syncdb indexes geometry columns with the operator class GIST_GEOMETRY_OPS,
# which PostGIS 2.0 removed, and the failing batch also rolls back the
# AddGeometryColumn that creates the column; 1.3 moreover quotes geometries
# as E'...' from an unprepared psycopg2 Binary, which the server reads as a
# NUL byte. The stock PostGIS ENGINE fails the same way. Django 1.5 added
# PostGIS 2 support.
pytestmark = pytest.mark.skipif(
    RELEASE < (1, 5), reason='GeoDjango %d.%d cannot use PostGIS 2+ (docs/postgis.md)' % RELEASE)
# Django 1.3 and 1.4 create a test database only from a template database
# that has PostGIS (POSTGIS_TEMPLATE, 'template_postgis' by default).
NEEDS_TEMPLATE = RELEASE < (1, 5)
# Django 1.8+ runs CREATE EXTENSION postgis itself on migrate (prepare_database).
# Before, GeoDjango asks the configured database for its PostGIS version as
# soon as a connection wrapper is built, so that database must have it.
CREATES_EXTENSION = RELEASE >= (1, 8)
# The project's own database on the server under test, made for this module.
GIS_DB = 'dbpool_gis'


def _missing():
    """Why PostGIS cannot run here, or None."""
    for library in ('geos_c', 'gdal'):
        if ctypes.util.find_library(library) is None:
            return 'the %s library is not installed (scripts/lib.sh ensure_postgis)' % library
    admin = Admin()
    try:
        rows = admin.query("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
    finally:
        admin.close()
    if not rows:
        return 'the server has no postgis extension (scripts/lib.sh ensure_postgis)'
    return None


@pytest.fixture(scope='module')
def postgis():
    """The server under test, with PostGIS available (or a skip/failure)."""
    need('postgis', _missing())
    admin = Admin()
    try:
        _create_database(admin, GIS_DB, with_postgis=not CREATES_EXTENSION)
        if NEEDS_TEMPLATE:
            _create_database(admin, 'template_postgis', with_postgis=True)
        yield admin
    finally:
        for name in (GIS_DB, 'template_postgis'):
            admin.query('DROP DATABASE IF EXISTS %s' % name)
        admin.close()


def _create_database(admin, name, with_postgis):
    admin.query('DROP DATABASE IF EXISTS %s' % name)
    admin.query('CREATE DATABASE %s' % name)
    if with_postgis:
        other = Admin(dict(database(), NAME=name))
        try:
            other.query('CREATE EXTENSION postgis')
        finally:
            other.close()


def manage(*args, **env):
    db = database()
    url = 'postgres://%s:%s@%s:%s/%s' % (quote(db['USER'], ''), quote(db['PASSWORD'], ''),
                                        db['HOST'], db['PORT'], db['NAME'])
    environ = dict(os.environ, DATABASE_URL=url, DBPOOL_GIS_NAME=GIS_DB)
    environ.update(env)
    environ['PYTHONPATH'] = os.pathsep.join([ROOT] + sys.path)
    process = subprocess.Popen([sys.executable, 'manage.py'] + list(args), cwd=PROJECT,
                               env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.communicate()[0].decode('utf-8', 'replace')
    return process.returncode, output


def test_geodjango_tests_pass_through_the_pooled_postgis_engine(postgis):
    code, output = manage('test', 'places', '--noinput', '-v', '2')
    assert code == 0, output
    assert 'OK' in output, output
    leftover = postgis.query("SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%%'")
    assert leftover == []


def test_migrations_create_the_geometry_columns(postgis):
    name = 'dbpool_gis_migrate'
    # Before 1.8 the database must have PostGIS already, as Django's docs say.
    _create_database(postgis, name, with_postgis=not CREATES_EXTENSION)
    try:
        command = ['migrate', '--noinput'] if RELEASE >= (1, 7) else ['syncdb', '--noinput']
        code, output = manage(*command, DBPOOL_GIS_NAME=name)
        assert code == 0, output
        other = Admin(dict(database(), NAME=name))
        try:
            columns = other.query(
                'SELECT f_table_name, f_geometry_column, type, srid FROM geometry_columns '
                'ORDER BY f_table_name')
        finally:
            other.close()
        assert columns == [('places_place', 'location', 'POINT', 3857),
                           ('places_zone', 'area', 'POLYGON', 3857)]
    finally:
        postgis.query('DROP DATABASE IF EXISTS %s' % name)
