"""The PoolError family raised by the core pool."""
from __future__ import absolute_import, division, print_function


class PoolError(Exception):
    """Base class of every error the pool raises itself."""


class PoolTimeout(PoolError):
    """No connection became free within POOL_TIMEOUT."""


class PoolClosed(PoolError):
    """The pool was closed (retired, drained or inherited across a fork)."""


class CredentialsError(PoolError):
    """OPTIONS['CREDENTIALS'] raised or returned something unusable: no connection was opened."""


class PoolDrained(PoolClosed):
    """The pool was drained (a shutdown): it lends no more connections."""
