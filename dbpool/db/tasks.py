"""Give pooled connections back around work done outside a request: task workers.

Django returns a thread's connection at the end of each request
(``close_old_connections`` on ``request_finished``). A task worker (Celery,
RQ, dramatiq, a cron thread) runs no request, so a connection a task opened
stays checked out by the worker's thread until something closes it: one
pool slot held for good per worker thread, and the session's state carried
into the next task. These helpers close (that is, check in) the thread's
connections at the task's end, and forget connections inherited across a
fork without touching the parent's sessions.

Celery: call ``connect_celery()`` once, in the module that creates the
Celery app; it also drains the pools when a worker process ends (prefork
children exit without running atexit handlers, which would leave every
pooled session to end with an "unexpected EOF"), and with
``warm_up=True`` opens MIN_CONNS in each new worker process. Any other
runner: wrap each task in ``returning_connections()``. See docs/celery.md
and docs/lifecycle.md. Celery is never imported unless ``connect_celery()``
is called.
"""
from __future__ import absolute_import, division, print_function

import contextlib
import functools

from django import db

from dbpool.pool import DRAIN_TIMEOUT_S

_DISPATCH_UID = 'dbpool.db.tasks'


def release_connections(**signal_kwargs):
    """Check this thread's connections back in (what the end of a request does)."""
    # Fit to be a signal receiver: the signal's arguments are ignored.
    close_old = getattr(db, 'close_old_connections', None)  # Django 1.6+
    if close_old is not None:
        # With CONN_MAX_AGE = 0, which the pool requires, this closes every
        # connection of the thread, and our close is a checkin.
        close_old()
    else:
        db.close_connection()  # Django 1.3 to 1.5: closes every alias of the thread


def forget_inherited_connections(**signal_kwargs):
    """In a forked child: drop the parent's pooled connections, leaving their sessions open."""
    # The pool already ignores them at the next use; doing it now also
    # stops an inherited wrapper from holding the parent's session in a
    # child that never queries. Each pooled wrapper goes through its own
    # close() (a wrapper stacked on ours resets its state there), which the
    # pool turns into nothing for a connection of the parent. Other
    # ENGINEs' wrappers are left alone: closing them would end the
    # parent's session.
    for connection in db.connections.all():
        drop = getattr(connection, '_dbpool_drop_inherited', None)
        if drop is not None:
            drop()


def _is_eager(task):
    # An eager task (task_always_eager, apply()) runs inside its caller's
    # request or transaction: closing there would break the caller.
    request = getattr(task, 'request', None)
    return bool(getattr(request, 'is_eager', False))


def _release_around_task(sender=None, task=None, **signal_kwargs):
    if not _is_eager(task or sender):
        release_connections()


def drain_connections(**signal_kwargs):
    """Drain this process's pools (dbpool.db.lifecycle.drain), for a worker that ends."""
    from dbpool.db import lifecycle
    lifecycle.drain(timeout=_settings['drain_timeout'])


def warm_up_connections(**signal_kwargs):
    """Open MIN_CONNS of every pooled alias in this (new) worker process."""
    from dbpool.db import lifecycle
    lifecycle.warm_up()


_settings = {'drain_timeout': DRAIN_TIMEOUT_S}


def connect_celery(app=None, warm_up=False, drain_timeout=DRAIN_TIMEOUT_S):
    """Connect dbpool to Celery's task and worker signals (idempotent).

    Around each task (task_prerun, task_postrun) the thread's connections
    go back; a forked worker process forgets its parent's
    (worker_process_init) and, with ``warm_up``, opens MIN_CONNS; a worker
    process that ends (worker_process_shutdown, and worker_shutdown for the
    main process of the solo and thread pools) is drained, waiting up to
    ``drain_timeout`` seconds for connections still checked out.

    ``app`` is accepted for symmetry with Celery's own helpers and unused:
    Celery's signals are process-wide.
    """
    from celery import signals  # here, so that importing this module needs no Celery
    _settings['drain_timeout'] = drain_timeout
    signals.task_prerun.connect(_release_around_task, weak=False,
                                dispatch_uid=_DISPATCH_UID + '.prerun')
    signals.task_postrun.connect(_release_around_task, weak=False,
                                 dispatch_uid=_DISPATCH_UID + '.postrun')
    signals.worker_process_init.connect(forget_inherited_connections, weak=False,
                                        dispatch_uid=_DISPATCH_UID + '.fork')
    if warm_up:
        # Connected after the forgetting above: receivers run in that order.
        signals.worker_process_init.connect(warm_up_connections, weak=False,
                                            dispatch_uid=_DISPATCH_UID + '.warm_up')
    signals.worker_process_shutdown.connect(drain_connections, weak=False,
                                            dispatch_uid=_DISPATCH_UID + '.drain')
    signals.worker_shutdown.connect(drain_connections, weak=False,
                                    dispatch_uid=_DISPATCH_UID + '.drain_main')


@contextlib.contextmanager
def _returning():
    try:
        yield
    finally:
        release_connections()


def returning_connections(function=None):
    """Give the thread's connections back when the block or the decorated function ends.

    ``with returning_connections(): ...`` or ``@returning_connections``.
    """
    if function is None:
        return _returning()

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with _returning():
            return function(*args, **kwargs)
    return wrapper
