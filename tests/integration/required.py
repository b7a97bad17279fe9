"""Skip or fail when an external tool (PostGIS, PgBouncer) is missing.

tox names the tools a cell must have in ``DBPOOL_REQUIRE`` (comma separated):
there a missing tool fails the test. Elsewhere the test is skipped with the
reason, so a run never passes silently without it.
"""
from __future__ import absolute_import, division, print_function

import os

import pytest


def required_tools():
    return set(name.strip() for name in os.environ.get('DBPOOL_REQUIRE', '').split(',')
               if name.strip())


def need(tool, missing_reason):
    """Fail (tool required here) or skip when ``missing_reason`` is not None."""
    if missing_reason is None:
        return
    message = '%s unavailable: %s' % (tool, missing_reason)
    if tool in required_tools():
        pytest.fail(message + ' (required in this cell by DBPOOL_REQUIRE)', pytrace=False)
    pytest.skip(message)
