"""Statistics export and connection signals as a Django project sees them."""
from __future__ import absolute_import, division, print_function

import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from dbpool import registry

from tests.backends.djangocompat import connect, extra_alias

EXPORTED = []


def record_stats(alias, snapshot):
    """A STATS_CALLBACK named by its dotted path in the tests' OPTIONS."""
    EXPORTED.append((alias, snapshot))


def full_settings(**options):
    return dict(connections['default'].settings_dict, OPTIONS=options)


def test_a_dotted_path_stats_callback_receives_the_alias_and_its_statistics():
    del EXPORTED[:]
    settings_dict = full_settings(
        MAX_CONNS=1, STATS_CALLBACK='tests.backends.test_observability.record_stats',
        STATS_INTERVAL=0.001)
    with extra_alias('exported', settings_dict) as wrapper:
        connect(wrapper)
        wrapper.close()
        pool = [p for p in registry.all_pools() if p.label == 'exported'][0]
        pool.run_housekeeping()
        time.sleep(0.01)
        pool.run_housekeeping()
    exported = [(alias, snapshot) for alias, snapshot in EXPORTED if alias == 'exported']
    assert exported
    assert exported[-1][1]['checkouts'] >= 1
    assert exported[-1][1]['max_conns'] == 1


def test_a_stats_callback_that_cannot_be_imported_is_improperly_configured():
    settings_dict = full_settings(MAX_CONNS=1, STATS_CALLBACK='tests.nowhere.record')
    with extra_alias('unexported', settings_dict) as wrapper:
        with pytest.raises(ImproperlyConfigured) as raised:
            connect(wrapper)
    assert "STATS_CALLBACK='tests.nowhere.record'" in str(raised.value)
