"""A worker's start and end for Django's pooled aliases: warm_up() and drain().

``warm_up()`` opens each alias' MIN_CONNS when a worker starts, so the
first requests after a deploy do not each wait for a new connection.
``drain()`` ends a worker cleanly: its pools stop lending, connections
still checked out get a bounded time to come back, and every connection
is closed with the protocol's goodbye, so the server logs no "unexpected
EOF". Ready hooks call them for gunicorn (dbpool.db.gunicorn_hooks), ASGI
servers (dbpool.db.asgi_lifespan) and Celery (dbpool.db.tasks); see
docs/lifecycle.md.
"""
from __future__ import absolute_import, division, print_function

import logging
import threading

from django.conf import settings
from django.db import connections

from dbpool import registry, stats
from dbpool.pool import DRAIN_TIMEOUT_S

logger = logging.getLogger('dbpool')

__all__ = ['DRAIN_TIMEOUT_S', 'drain', 'warm_up']


def pooled_aliases(aliases=None):
    """The given aliases (default: every one in DATABASES) whose ENGINE is dbpool's."""
    names = list(settings.DATABASES) if aliases is None else list(aliases)
    return [alias for alias in names
            if hasattr(connections[alias], '_dbpool_checkout')]


def warm_up(aliases=None, wait=True):
    """Create the pools of ``aliases`` (default: every pooled alias) and open their MIN_CONNS.

    With ``wait``, returns ``{alias: connections open}`` once they are
    open; without, opens them in a background thread, which it returns.
    Does nothing (returns ``{}``) in a process declared a prefork master
    (dbpool.registry.forks_workers(), which importing
    dbpool.db.gunicorn_hooks does): connections opened there would only be
    inherited, never used. Never raises for a database it cannot reach: it
    logs that, and the pool opens connections when they are asked for.
    """
    if registry.will_fork():
        logger.info('dbpool: warm_up() does nothing in this process, which forks its '
                    'workers; call it in each worker (after the fork) instead')
        return {}
    names = pooled_aliases(aliases)
    if wait:
        return dict((alias, _warm_up_alias(alias)) for alias in names)
    thread = threading.Thread(target=lambda: [_warm_up_alias(alias) for alias in names],
                              name='dbpool-warm-up')
    thread.daemon = True
    thread.start()
    return thread


def _warm_up_alias(alias):
    # One checkout through Django's own connect() creates the pool and
    # leaves a connection set up as a request's would be; the pool then
    # opens the rest of MIN_CONNS in this thread.
    wrapper = connections[alias]
    connected = wrapper.connection is not None
    try:
        if not connected:
            _connect(wrapper)
        pool = wrapper._dbpool_pool
        if not connected:
            wrapper.close()  # the checkin
        pool.fill(wait=True)
    except Exception as exc:
        logger.warning('dbpool: warm_up() could not open connections for alias %s: %s',
                       alias, exc)
        return 0
    return pool.stats()[stats.CONNECTIONS_OPEN]


def _connect(wrapper):
    ensure_connection = getattr(wrapper, 'ensure_connection', None)  # Django 1.6+
    if ensure_connection is not None:
        ensure_connection()
    else:
        wrapper.cursor().close()  # 1.3 to 1.5 connect in _cursor()


def drain(aliases=None, timeout=DRAIN_TIMEOUT_S):
    """Stop lending connections of ``aliases`` (default: every pooled alias), wait, close them.

    This thread's own connections are given back first. Then every pool
    of those aliases refuses checkouts (dbpool.db.errors.PoolDrained),
    waits up to ``timeout`` seconds in all for the connections other
    threads still have checked out, and closes every connection with a
    goodbye to the server. Returns how many were still checked out when
    the time ran out (closed when they come back). Call it once the server
    stopped taking requests: its hooks do.
    """
    names = pooled_aliases(aliases)
    for alias in names:
        wrapper = connections[alias]
        if wrapper.connection is not None:
            wrapper.close()
    wanted = frozenset(names)
    match = None if aliases is None else (lambda pool: pool.label in wanted)
    out = registry.drain_pools(timeout, match)
    logger.info('dbpool: drained the pools of %s%s', ', '.join(names) or 'no alias',
                ', %d connections still checked out' % out if out else '')
    return out
