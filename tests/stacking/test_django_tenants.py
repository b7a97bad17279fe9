"""django-tenants' ENGINE stacked on ours: tenants never see each other's rows.

The project in tenantsproject/ sets ``ENGINE='django_tenants.postgresql_backend'``
and ``ORIGINAL_BACKEND='dbpool.db.backends.postgresql'`` (or the pooled
PostGIS), with ``MAX_CONNS=1`` unless said otherwise, so that tenants take
turns on one physical connection. Tenants t1, t2 and the public schema each
have a notes_note table holding one row that names the schema. Every
scenario runs in a child process of its own (scenarios.py), on a database
made for this module. django-tenants is a tox dep of the cells whose
DBPOOL_REQUIRE names it (3.x on Django 4.2, 4.x on 6.1); elsewhere these
tests skip, saying so.
"""
from __future__ import absolute_import, division, print_function

import ctypes.util
import json
import os
import sys

import django
import pytest

from tests.integration.required import need
from tests.servers.harness import database_url, project_database, require, run_bounded
from tests.support import Admin

PROJECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tenantsproject')
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TENANTS = ('t1', 't2')

pytestmark = pytest.mark.skipif(django.VERSION < (4, 2),
                                reason='the django-tenants releases tested need Django 4.2+')


@pytest.fixture(scope='module')
def tenants_db():
    """The settings dict of a database with tenants t1 and t2 migrated and filled."""
    require('django_tenants', 'django-tenants')
    with project_database('dbpool_tenants') as (settings_dict, admin):
        make_tenants(project_env(settings_dict))
        yield settings_dict


@pytest.fixture(scope='module')
def tenants_gis_db():
    """As tenants_db, with ORIGINAL_BACKEND the pooled PostGIS ENGINE."""
    require('django_tenants', 'django-tenants')
    need('postgis', postgis_missing())
    with project_database('dbpool_tenants_gis') as (settings_dict, admin):
        make_tenants(project_env(settings_dict, ORIGINAL=POSTGIS))
        yield settings_dict


POSTGIS = 'dbpool.db.backends.postgis'


def postgis_missing():
    """Why PostGIS cannot run here (scripts/lib.sh ensure_postgis installs it), or None."""
    for library in ('geos_c', 'gdal'):
        if ctypes.util.find_library(library) is None:
            return 'the %s library is not installed' % library
    admin = Admin()
    try:
        rows = admin.query("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
    finally:
        admin.close()
    return None if rows else 'the server has no postgis extension'



def make_tenants(env):
    # Django 1.8+'s PostGIS backend creates the extension in public here.
    manage(env, 'migrate_schemas', '--shared', '--noinput')
    assert scenario('setup', env)['tenants'] == ['public', 't1', 't2']


def project_env(settings_dict, **knobs):
    env = dict(os.environ, DATABASE_URL=database_url(settings_dict),
               DJANGO_SETTINGS_MODULE='tenantsettings',
               PYTHONPATH=os.pathsep.join([PROJECT, ROOT]))
    for name in list(env):
        if name.startswith('DBPOOL_TENANTS_'):
            del env[name]
    env.update(('DBPOOL_TENANTS_' + name, str(value)) for name, value in knobs.items())
    return env


def manage(env, *args):
    code, output = run_bounded([sys.executable, 'manage.py'] + list(args), env, 180,
                               cwd=PROJECT)
    assert code == 0, output
    return output


def scenario(name, env):
    code, output = run_bounded([sys.executable, 'scenarios.py', name], env, 180, cwd=PROJECT)
    assert code == 0, output
    return json.loads(output.strip().splitlines()[-1])


def assert_own_rows(reads, *ways):
    for read in reads:
        for way in ways:
            assert read[way] == [read['tenant']], read


KNOBS = [
    {},
    {'LIMIT_SET_CALLS': 1},
    {'RECEIVERS': 1},
    {'RECEIVERS': 1, 'LIMIT_SET_CALLS': 1},
]


@pytest.mark.parametrize('knobs', KNOBS, ids=lambda knobs: '-'.join(sorted(knobs)) or 'plain')
def test_tenants_taking_turns_on_one_connection_read_only_their_own_rows(tenants_db, knobs):
    found = scenario('alternating', project_env(tenants_db, **knobs))
    assert_own_rows(found['reads'], 'orm', 'raw')
    assert len(set(read['backend_pid'] for read in found['reads'])) == 1  # one session, reused
    assert [tenant for tenant, _ in found['at_checkout']] == [r['tenant'] for r in found['reads']]


@pytest.mark.parametrize('knobs', KNOBS, ids=lambda knobs: '-'.join(sorted(knobs)) or 'plain')
def test_a_checkout_never_starts_on_the_schema_of_the_tenant_that_opened_the_connection(
        tenants_db, knobs):
    # The first physical connection opens while t1 is set, and Django's
    # version check inside connect() makes django-tenants SET search_path.
    # It must reach no later borrower: not kept as if a connection_created
    # receiver had set it, nor taken for the clean session (with
    # TENANT_LIMIT_SET_CALLS nothing else changes the session afterwards).
    found = scenario('alternating', project_env(tenants_db, **knobs))
    for tenant, seen in found['at_checkout'][1:]:
        assert seen in (['public'], [tenant]), found['at_checkout']
    assert [seen for tenant, seen in found['at_checkout'] if tenant == 't2'] == [['public']] * 4


def test_threads_on_a_pool_of_two_read_only_their_own_tenants_rows(tenants_db):
    found = scenario('threads', project_env(tenants_db, MAX_CONNS=2, RECEIVERS=1))
    assert found['errors'] == []
    assert len(found['reads']) == 8 * 2 * 4
    assert_own_rows(found['reads'], 'orm')


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork')
@pytest.mark.parametrize('knobs', [{}, {'LIMIT_SET_CALLS': 1}],
                         ids=lambda knobs: '-'.join(sorted(knobs)) or 'plain')
def test_a_forked_child_reads_its_tenants_rows_and_leaves_the_parents_session(
        tenants_db, knobs):
    found = scenario('fork', project_env(tenants_db, **knobs))
    assert found['before'] == ['t1']
    assert found['child'].get('error') is None, found['child']
    assert (found['child']['schema_name'], found['child']['orm']) == ('t1', ['t1'])
    assert found['child']['backend_pid'] != found['parent_backend']
    assert found['parent_backend_after'] == found['parent_backend']
    assert found['parent_after'] == ['t1']


def test_manage_py_check_reports_conn_max_age_on_the_stacked_engine(tenants_db):
    env = project_env(tenants_db, CONN_MAX_AGE=60)
    code, output = run_bounded([sys.executable, 'manage.py', 'check'], env, 120, cwd=PROJECT)
    assert code != 0, output
    assert 'dbpool.E001' in output, output


def test_dbpool_status_lists_the_stacked_alias(tenants_db):
    output = manage(project_env(tenants_db), 'dbpool_status', '--json', '--no-server')
    report = json.loads(output)
    assert [(alias['alias'], alias['engine']) for alias in report['aliases']] == [
        ('default', 'django_tenants.postgresql_backend')]
    assert report['aliases'][0]['options']['MAX_CONNS'] == 1


def test_the_tenants_wrapper_is_a_pooled_wrapper(tenants_db):
    found = scenario('wrapper', project_env(tenants_db))
    assert found['pooled'] is True
    assert found['classes'] == ['django_tenants.postgresql_backend.base.DatabaseWrapper',
                                'dbpool.db.backends.postgresql.base.DatabaseWrapper']


def test_requests_through_the_tenant_middleware_get_their_tenants_rows(tenants_db):
    found = scenario('requests', project_env(tenants_db, RECEIVERS=1, LIMIT_SET_CALLS=1))
    assert found['statuses'] == [200] * len(found['reads'])
    assert_own_rows(found['reads'], 'orm')


def test_the_pooled_postgis_engine_under_django_tenants_serves_geometry_on_a_tenant(
        tenants_gis_db):
    found = scenario('spatial', project_env(tenants_gis_db, ORIGINAL=POSTGIS))
    assert found['pooled'] is True
    assert found['classes'] == ['django_tenants.postgresql_backend.base.DatabaseWrapper',
                                'dbpool.db.backends.postgis.base.DatabaseWrapper']
    assert found['postgis'] is True
    assert found['point'] == 'POINT(1 2)'
    assert found['orm'] == ['t2']


def test_tenants_on_the_pooled_postgis_engine_read_only_their_own_rows(tenants_gis_db):
    found = scenario('alternating', project_env(tenants_gis_db, ORIGINAL=POSTGIS, RECEIVERS=1))
    assert_own_rows(found['reads'], 'orm', 'raw')
    for tenant, seen in found['at_checkout'][1:]:
        assert seen in (['public'], [tenant]), found['at_checkout']
