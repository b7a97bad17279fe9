"""Django configured as for tests/backends (importing it configures Django)."""
from __future__ import absolute_import, division, print_function

from tests.backends.conftest import configure_django, fresh_pools  # noqa: F401

configure_django()
