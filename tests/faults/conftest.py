"""Django configured as for tests/backends (importing it configures Django)."""
from __future__ import absolute_import, division, print_function

import pytest

from tests.backends.conftest import admin, configure_django, fresh_pools  # noqa: F401
from tests.proxy import FaultProxy
from tests.support import database

configure_django()


@pytest.fixture
def proxy():
    """A FaultProxy in front of the server under test."""
    proxy = FaultProxy(database()['PORT'])
    yield proxy
    proxy.close()
