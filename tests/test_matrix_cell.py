"""The environment is the cell tox says it is (catches a mistyped pin)."""
from __future__ import absolute_import, division, print_function

import glob
import io
import os
import re
import sys
import sysconfig

import pytest

EXPECT_DJANGO = os.environ.get('DBPOOL_EXPECT_DJANGO')
EXPECT_DRIVER = os.environ.get('DBPOOL_EXPECT_DRIVER')
TOX_ENV = os.environ.get('DBPOOL_TOX_ENV')
SOURCE_TREE = os.environ.get('DBPOOL_SOURCE_TREE')
EXPECT_WHEEL = os.environ.get('DBPOOL_EXPECT_WHEEL')


def package_folder():
    import dbpool
    return os.path.dirname(os.path.realpath(dbpool.__file__))


@pytest.mark.skipif(not EXPECT_WHEEL, reason='not a wheel cell: dbpool comes from the source tree')
def test_a_wheel_cell_imports_dbpool_from_the_installed_wheel():
    site_packages = os.path.realpath(sysconfig.get_paths()['purelib'])
    assert package_folder() == os.path.join(site_packages, 'dbpool')
    assert package_folder() != os.path.join(os.path.realpath(SOURCE_TREE), 'dbpool')
    # pip installed a wheel (an editable or source install leaves no
    # .dist-info with a WHEEL file), the universal one, with every module.
    infos = glob.glob(os.path.join(site_packages, 'django_db_pool-*.dist-info'))
    assert len(infos) == 1, infos
    with io.open(os.path.join(infos[0], 'WHEEL'), encoding='utf-8') as handle:
        tags = re.findall(r'^Tag: (\S+)$', handle.read(), re.M)
    assert sorted(tags) == ['py2-none-any', 'py3-none-any']
    with io.open(os.path.join(infos[0], 'RECORD'), encoding='utf-8') as handle:
        recorded = set(line.split(',')[0] for line in handle)
    assert 'dbpool/db/backends/postgresql/base.py' in recorded


@pytest.mark.skipif(EXPECT_WHEEL or not SOURCE_TREE,
                    reason='a wheel cell, or outside tox: no DBPOOL_SOURCE_TREE')
def test_a_source_cell_imports_dbpool_from_the_source_tree():
    assert package_folder() == os.path.join(os.path.realpath(SOURCE_TREE), 'dbpool')


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
