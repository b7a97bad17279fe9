"""The environment is the cell tox says it is (catches a mistyped pin)."""
from __future__ import absolute_import, division, print_function

import os
import re
import sys

import pytest

EXPECT_DJANGO = os.environ.get('DBPOOL_EXPECT_DJANGO')
EXPECT_DRIVER = os.environ.get('DBPOOL_EXPECT_DRIVER')
TOX_ENV = os.environ.get('DBPOOL_TOX_ENV')


@pytest.mark.skipif(not TOX_ENV, reason='outside tox: no DBPOOL_TOX_ENV')
def test_python_version_matches_the_cell():
    # py36-dj22 runs on 3.6, py310-dj52-psycopg3 on 3.10, py27-... on 2.7.
    factor = re.match(r'py(\d)(\d+)-', TOX_ENV)
    assert factor, 'the cell name %r starts with no pyXY factor' % TOX_ENV
    assert sys.version_info[:2] == (int(factor.group(1)), int(factor.group(2)))


@pytest.mark.skipif(not EXPECT_DJANGO, reason='outside tox: no DBPOOL_EXPECT_DJANGO')
def test_django_version_matches_the_cell():
    import django
    assert '%d.%d' % django.VERSION[:2] == EXPECT_DJANGO


@pytest.mark.skipif(not EXPECT_DRIVER, reason='outside tox: no DBPOOL_EXPECT_DRIVER')
def test_django_uses_the_driver_of_the_cell():
    from tests.backends.conftest import configure_django
    configure_django()
    from django.db import connections
    from tests.backends.djangocompat import connect
    wrapper = connections['default']
    connect(wrapper)
    try:
        # The module of the raw connection's driver class (the pool tracks
        # it through a subclass of its own): Django chose the driver (4.2+
        # prefers psycopg 3 when both are installed).
        modules = [cls.__module__.split('.')[0] for cls in type(wrapper.connection).__mro__]
        assert [name for name in modules if name != 'dbpool'][0] == EXPECT_DRIVER
    finally:
        wrapper.close()
