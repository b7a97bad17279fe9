"""Test helpers that smooth over Django API differences from 1.3 to 6.1.

The library keeps its version checks in dbpool.compat; the tests keep
theirs here, as feature checks.
"""
from __future__ import absolute_import, division, print_function

import contextlib

from django.db import connections, transaction

HAS_ATOMIC = hasattr(transaction, 'atomic')  # 1.6+


def close_all():
    """Close every alias's connection of this thread."""
    for wrapper in connections.all():
        wrapper.close()


def connect(wrapper):
    """Make ``wrapper`` check out a connection and keep it (ensure_connection is 1.6+).

    No statement runs, so a transaction-scoped wrapper keeps it too.
    """
    if hasattr(wrapper, 'ensure_connection'):
        wrapper.ensure_connection()
    else:
        wrapper._cursor().close()


def _settings_store():
    # 3.2 renamed ConnectionHandler.databases to .settings.
    store = getattr(connections, 'settings', None)
    return store if store is not None else connections.databases


def _forget(alias):
    wrappers = connections._connections
    if isinstance(wrappers, dict):  # 1.3: a plain dict of thread-local wrappers
        wrappers.pop(alias, None)
    elif hasattr(wrappers, alias):
        delattr(wrappers, alias)


@contextlib.contextmanager
def extra_alias(alias, settings_dict):
    """A DATABASES alias that exists for the ``with`` block; yields its wrapper."""
    _settings_store()[alias] = settings_dict
    try:
        yield connections[alias]
    finally:
        connections[alias].close()
        _forget(alias)
        del _settings_store()[alias]


def serializable_level():
    """The OPTIONS['isolation_level'] value for SERIALIZABLE on this release."""
    try:
        from django.db.backends.postgresql.psycopg_any import IsolationLevel  # 4.2+
        return IsolationLevel.SERIALIZABLE
    except ImportError:
        import psycopg2.extensions
        return psycopg2.extensions.ISOLATION_LEVEL_SERIALIZABLE


HAS_THREAD_SHARING = hasattr(connections['default'], 'validate_thread_sharing')  # 1.4+


@contextlib.contextmanager
def thread_sharing(wrapper):
    """Let other threads use ``wrapper`` for the ``with`` block."""
    if hasattr(wrapper, 'inc_thread_sharing'):  # 2.2+
        wrapper.inc_thread_sharing()
        try:
            yield wrapper
        finally:
            wrapper.dec_thread_sharing()
    else:
        wrapper.allow_thread_sharing = True
        try:
            yield wrapper
        finally:
            wrapper.allow_thread_sharing = False
