"""Pool errors as Django users catch them: subclasses of django.db.OperationalError
(django.db.DatabaseError on 1.3-1.5, which have no OperationalError)."""
from __future__ import absolute_import, division, print_function

try:
    from django.db.utils import OperationalError
except ImportError:  # Django 1.3-1.5 map every driver error to DatabaseError
    from django.db.utils import DatabaseError as OperationalError

from dbpool import errors


class PoolTimeout(errors.PoolTimeout, OperationalError):
    """No connection became free within POOL_TIMEOUT (a django.db.OperationalError)."""


class PoolClosed(errors.PoolClosed, OperationalError):
    """The alias' pool kept being closed under a checkout (a django.db.OperationalError)."""


class CredentialsError(errors.CredentialsError, OperationalError):
    """OPTIONS['CREDENTIALS'] failed for a new connection (a django.db.OperationalError)."""


class PoolDrained(PoolClosed, errors.PoolDrained):
    """The alias' pool was drained for a shutdown (a django.db.OperationalError)."""


# Tracebacks show the names users import.
PoolTimeout.__module__ = 'dbpool.db.errors'
PoolClosed.__module__ = 'dbpool.db.errors'
CredentialsError.__module__ = 'dbpool.db.errors'
PoolDrained.__module__ = 'dbpool.db.errors'
