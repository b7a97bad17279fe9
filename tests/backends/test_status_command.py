"""manage.py dbpool_status, found through the 'dbpool' app on every release."""
from __future__ import absolute_import, division, print_function

import io
import json

from django.conf import settings
from django.core.management import call_command, get_commands

from django.db import connections

from tests.backends.djangocompat import close_all, connect
from tests.support import database


def run_status(**options):
    out = io.StringIO() if str is not bytes else io.BytesIO()
    call_command('dbpool_status', stdout=out, **options)
    return out.getvalue()


def test_the_command_is_found_through_the_installed_app():
    assert get_commands()['dbpool_status'] == 'dbpool'


def test_json_lists_every_pooled_alias_with_settings_pool_and_server_sessions():
    connect(connections['default'])  # this process now has a pool for 'default'
    try:
        report = json.loads(run_status(json=True))
    finally:
        close_all()
    by_alias = dict((entry['alias'], entry) for entry in report['aliases'])
    assert sorted(by_alias) == ['default', 'historic', 'tiny']
    default = by_alias['default']
    assert default['options']['MAX_CONNS'] == 4
    assert [pool['connections_in_use'] for pool in default['pools']] == [1]
    assert by_alias['tiny']['pools'] == []
    server = default['server']
    assert server['max_connections'] > 0
    # Our own checked-out connection, seen by the server under its name.
    mine = [row for row in server['sessions'] if row['application_name'] == 'dbpool-default']
    assert sum(row['count'] for row in mine) >= 1
    assert database()['PASSWORD'] not in json.dumps(report)


def test_the_text_report_without_the_server():
    text = run_status(server=False, aliases=['tiny'])
    assert text.startswith('tiny: ')
    assert 'MAX_CONNS=1' in text
    assert 'no pool yet' in text
    assert 'server:' not in text


def test_an_alias_on_an_engine_stacked_on_ours_is_reported():
    stacked = dict(settings.DATABASES['tiny'], ENGINE='tests.stacking.schemaengine')
    settings.DATABASES['stacked'] = stacked
    try:
        report = json.loads(run_status(json=True, server=False))
    finally:
        del settings.DATABASES['stacked']
    engines = dict((entry['alias'], entry['engine']) for entry in report['aliases'])
    assert engines['stacked'] == 'tests.stacking.schemaengine'
    assert sorted(engines) == ['default', 'historic', 'stacked', 'tiny']


def test_the_text_report_shows_wait_use_and_connect_percentiles_of_this_process():
    connect(connections['default'])
    close_all()  # one more checkout and its return, in this process's pool
    text = run_status(server=False, aliases=['default'])
    report = json.loads(run_status(json=True, server=False, aliases=['default']))
    [pool] = report['aliases'][0]['pools']
    assert pool['use_ms_histogram'][-1] == pool['use_ms_count'] >= 1
    [times] = [line.strip() for line in text.splitlines() if line.strip().startswith('times:')]
    assert times.startswith('times: wait p50 0 ms, ')  # a lone thread never waits
    assert '(%d checkouts)' % pool['wait_ms_count'] in times
    assert '(%d returns)' % pool['use_ms_count'] in times
    assert ' connect p50 ' in times
