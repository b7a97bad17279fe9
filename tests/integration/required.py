"""Run, skip or fail the tests of an external tool (PostGIS, PgBouncer).

tox names the tools a cell must test in ``DBPOOL_REQUIRE`` (comma
separated): there a missing tool fails the test. The other tox cells (which
set ``DBPOOL_TOX_ENV``) skip them, to keep the matrix short. Outside tox
the tests run when the tool is there and skip, saying why, when it is not.
"""
from __future__ import absolute_import, division, print_function

import os

import pytest

from tests.support import required_tools


def need(tool, missing_reason):
    """Fail or skip unless ``tool`` is to be tested here and ``missing_reason`` is None."""
    required = tool in required_tools()
    cell = os.environ.get('DBPOOL_TOX_ENV')
    if cell and not required:
        pytest.skip('%s is tested in the tox cells whose DBPOOL_REQUIRE names it, not in %s'
                    % (tool, cell))
    if missing_reason is None:
        return
    message = '%s unavailable: %s' % (tool, missing_reason)
    if required:
        pytest.fail(message + ' (required in this cell by DBPOOL_REQUIRE)', pytrace=False)
    pytest.skip(message)
