"""gunicorn server hooks: warm each worker up after the fork, drain it when it exits.

In the gunicorn config file (``gunicorn.conf.py``, or ``-c``)::

    from dbpool.db.gunicorn_hooks import post_worker_init, worker_exit  # noqa: F401

Importing this module declares the process a prefork master
(dbpool.registry.forks_workers()): gunicorn reads its config file in the
master only, before it loads the application (with ``--preload`` too), so
a warm_up() the application calls while it is imported there does nothing;
each worker opens its own connections after the fork. A config file that
defines its own hooks calls these from them. See docs/lifecycle.md.
"""
from __future__ import absolute_import, division, print_function

from dbpool import registry
from dbpool.pool import DRAIN_TIMEOUT_S

registry.forks_workers()


def post_worker_init(worker):
    """gunicorn's post_worker_init: open MIN_CONNS of every pooled alias in this worker."""
    from dbpool.db import lifecycle  # here: Django is set up once the application is loaded
    lifecycle.warm_up()


def worker_exit(server, worker):
    """gunicorn's worker_exit: drain this worker's pools (within its graceful_timeout)."""
    from dbpool.db import lifecycle
    graceful = getattr(getattr(worker, 'cfg', None), 'graceful_timeout', None)
    timeout = DRAIN_TIMEOUT_S if graceful is None else min(DRAIN_TIMEOUT_S, graceful)
    lifecycle.drain(timeout=timeout)
