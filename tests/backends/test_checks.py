"""System checks (Django 1.7+) for settings that cannot work well with the pool."""
from __future__ import absolute_import, division, print_function

import contextlib

import pytest
from django.conf import settings

from dbpool.db import checks as dbpool_checks

try:
    from django.core import checks
    HAS_CHECKS = hasattr(checks, 'register')  # 1.6's checks module has no framework
except ImportError:
    HAS_CHECKS = False
HAS_DATABASE_TAG = HAS_CHECKS and getattr(checks.Tags, 'database', None) is not None

needs_checks = pytest.mark.skipif(
    not HAS_CHECKS, reason='Django 1.3-1.6 have no system checks framework (documented: '
                           'ImproperlyConfigured at the first connection instead)')
needs_database_tag = pytest.mark.skipif(
    not HAS_DATABASE_TAG, reason="Django 1.7-1.9 have no 'database' check tag (documented)")


@contextlib.contextmanager
def extra_database(alias, **changes):
    settings_dict = dict(settings.DATABASES['default'])
    settings_dict['OPTIONS'] = dict(settings_dict.get('OPTIONS') or {})
    options = changes.pop('OPTIONS', {})
    settings_dict['OPTIONS'].update(options)
    settings_dict.update(changes)
    settings.DATABASES[alias] = settings_dict
    try:
        yield
    finally:
        del settings.DATABASES[alias]


def run_registered(**kwargs):
    """Every check Django would run for `manage.py check` (with these options)."""
    return checks.run_checks(**kwargs)


@needs_checks
def test_the_default_settings_pass_every_check():
    assert [m for m in run_registered() if m.id.startswith('dbpool.')] == []


@needs_checks
@pytest.mark.parametrize('changes, expected', [
    ({'CONN_MAX_AGE': 60}, 'dbpool.E001'),
    ({'CONN_MAX_AGE': None}, 'dbpool.E001'),
    ({'OPTIONS': {'pool': True}}, 'dbpool.E002'),
    ({'OPTIONS': {'MIN_CONNS': 9, 'MAX_CONNS': 2}}, 'dbpool.E003'),
    ({'OPTIONS': {'MAX_CONN': 2}}, 'dbpool.E004'),
    ({'OPTIONS': {'max_conns': 2}}, 'dbpool.E004'),
    ({'OPTIONS': {'max_size': 2}}, 'dbpool.E004'),
    ({'ENGINE': 'tests.stacking.schemaengine', 'CONN_MAX_AGE': 60}, 'dbpool.E001'),
])
def test_a_setting_that_cannot_work_is_an_error_of_manage_py_check(changes, expected):
    with extra_database('checked', **changes):
        found = [m for m in run_registered() if m.id.startswith('dbpool.')]
    assert [m.id for m in found] == [expected]
    assert "DATABASES['checked']" in found[0].msg
    assert found[0].level == checks.ERROR


@needs_checks
def test_a_typo_gets_the_close_key_as_hint():
    with extra_database('typo', OPTIONS={'MAX_CONN': 2}):
        found = dbpool_checks.check_settings()
    assert found[0].hint == 'Did you mean MAX_CONNS?'


@needs_checks
@pytest.mark.parametrize('key, hint', [
    ('max_conns', 'Did you mean MAX_CONNS? dbpool reads its keys in upper case only.'),
    ('Pool_Timeout', 'Did you mean POOL_TIMEOUT? dbpool reads its keys in upper case only.'),
    ('min_size', 'Did you mean MIN_CONNS? min_size is what psycopg_pool calls it.'),
    ('max_size', 'Did you mean MAX_CONNS? max_size is what psycopg_pool calls it.'),
])
def test_a_pool_key_in_lower_case_or_psycopg_pools_spelling_gets_a_did_you_mean(key, hint):
    with extra_database('spelt', OPTIONS={key: 2}):
        found = dbpool_checks.check_settings()
    assert [(m.id, m.hint) for m in found] == [('dbpool.E004', hint)]
    assert "has %s, which is not a dbpool setting" % key in found[0].msg


@needs_checks
def test_driver_and_django_options_are_not_taken_for_pool_keys():
    options = {'connect_timeout': 5, 'keepalives_interval': 10, 'tcp_user_timeout': 1000,
               'application_name': 'x', 'sslmode': 'prefer', 'options': '-c work_mem=4MB'}
    with extra_database('driver', OPTIONS=options):
        assert dbpool_checks.check_settings() == []


@needs_checks
def test_an_engine_that_cannot_be_imported_is_left_alone():
    with extra_database('broken', ENGINE='tests.nowhere.backend', CONN_MAX_AGE=60):
        assert dbpool_checks.check_settings() == []


@needs_checks
def test_aliases_on_other_engines_are_left_alone():
    with extra_database('stock', ENGINE='django.db.backends.sqlite3', CONN_MAX_AGE=60,
                        OPTIONS={'MAX_CONN': 1}):
        assert dbpool_checks.check_settings() == []


def database_checks(alias):
    try:
        # Django 3.1+: what `manage.py check --database ALIAS` runs.
        return run_registered(tags=[checks.Tags.database], databases=[alias])
    except TypeError:
        # Django 1.10-3.0: what `manage.py check --tag database` runs.
        return run_registered(tags=[checks.Tags.database])


@needs_database_tag
def test_more_connections_than_the_server_accepts_is_a_warning_of_the_database_check(
        monkeypatch):
    monkeypatch.setenv('DBPOOL_WORKERS', '3')
    with extra_database('crowded', OPTIONS={'MAX_CONNS': 5000, 'MIN_CONNS': 0}):
        found = [m for m in database_checks('crowded') if m.id.startswith('dbpool.')]
    assert [m.id for m in found] == ['dbpool.W001']
    assert 'x 3 processes ($DBPOOL_WORKERS)' in found[0].msg
    assert found[0].level == checks.WARNING


@needs_database_tag
def test_a_pool_that_fits_the_server_passes_the_database_check(monkeypatch):
    monkeypatch.setenv('DBPOOL_WORKERS', '2')
    with extra_database('roomy', OPTIONS={'MAX_CONNS': 2, 'MIN_CONNS': 0}):
        found = [m for m in database_checks('roomy') if m.id.startswith('dbpool.')]
    assert found == []


@needs_checks
def test_the_worker_count_comes_from_the_setting_then_the_environment(monkeypatch):
    monkeypatch.delenv('DBPOOL_WORKERS', raising=False)
    monkeypatch.setenv('WEB_CONCURRENCY', '4')
    assert dbpool_checks.expected_workers() == (4, '$WEB_CONCURRENCY')
    monkeypatch.setattr(settings, 'DBPOOL_WORKERS', 6, raising=False)
    assert dbpool_checks.expected_workers() == (6, 'settings.DBPOOL_WORKERS')
    monkeypatch.delattr(settings, 'DBPOOL_WORKERS')
    monkeypatch.delenv('WEB_CONCURRENCY')
    assert dbpool_checks.expected_workers()[0] == 1
