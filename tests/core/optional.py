"""Import an optional package a test needs: fail where tox requires it, else skip saying why."""
from __future__ import absolute_import, division, print_function

import importlib

import pytest

from tests.support import required_tools


def require(module_name, tool):
    """Import ``module_name``; fail if DBPOOL_REQUIRE names ``tool``, else skip."""
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        if tool in required_tools():
            pytest.fail('%s is required in this cell (DBPOOL_REQUIRE) but cannot be '
                        'imported: %s' % (tool, exc), pytrace=False)
        pytest.skip('%s is not installed here (a tox dep of the cells whose DBPOOL_REQUIRE '
                    'names %s)' % (tool, tool))
