"""testprojects/modern's settings with a slow view, for tests/servers/test_graceful_stop.py."""
from __future__ import absolute_import, division, print_function

from demoproject.settings import *  # noqa: F401,F403

ROOT_URLCONF = 'tests.servers.lifecycle_app'
