"""Settings of the benchmark site: the demo project (testprojects/modern) with one
database alias per load scenario, connected the way BENCH_MODE says.

compare.py sets DATABASE_URL, BENCH_MODE and PYTHONPATH (the repository, the
demo project and benchmarks/) for each worker process.
"""
from __future__ import absolute_import, division, print_function

import os

from demoproject.settings import *  # noqa: F401,F403 - the real project's settings

from dbpool.testing.pgcluster import parse_database_url
from modes import BY_NAME, STOCK_ENGINE, scenario_sizes

_mode = BY_NAME[os.environ['BENCH_MODE']]
_base = parse_database_url(os.environ['DATABASE_URL'])

ROOT_URLCONF = 'benchsite.urls'
DATABASES = {
    # migrate and the seed rows go through 'default'; the load never does.
    'default': dict(_base, ENGINE=STOCK_ENGINE, OPTIONS={'application_name': 'bench-admin'}),
}
for _alias, (_threads, _connections) in scenario_sizes(os.environ).items():
    DATABASES[_alias] = _mode.database(_base, _alias, _connections)
globals().update(_mode.settings_extra())
