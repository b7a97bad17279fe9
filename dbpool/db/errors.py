"""Pool errors as Django users catch them: subclasses of django.db.OperationalError."""
from __future__ import absolute_import, division, print_function

from django.db.utils import OperationalError

from dbpool import errors


class PoolTimeout(errors.PoolTimeout, OperationalError):
    """No connection became free within POOL_TIMEOUT (a django.db.OperationalError)."""


# Tracebacks show the name users import.
PoolTimeout.__module__ = 'dbpool.db.errors'
