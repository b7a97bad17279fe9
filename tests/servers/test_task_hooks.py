"""dbpool.db.tasks in one process: connections given back at the end of a task."""
from __future__ import absolute_import, division, print_function

import os

import pytest

# First: configures Django, which Django 1.3-1.5 need before django.db loads.
from tests.backends.conftest import configure_django, fresh_pools  # noqa: F401,I001
from django.db import connection  # noqa: E402

from dbpool.db import tasks  # noqa: E402
from tests.backends.test_backend import backend_pid, in_thread, pool_of  # noqa: E402
from tests.servers.harness import require  # noqa: E402
from tests.support import run_in_child  # noqa: E402


def in_use():
    return pool_of('default')['connections_in_use']


def test_a_query_outside_a_request_keeps_its_connection_checked_out():
    # What the hooks are for: nothing ends a task the way a request ends.
    def task():
        backend_pid()
        return in_use()
    # (the thread ends here; close_all() in in_thread() gives it back)
    assert in_thread(task) == 1


def test_returning_connections_gives_the_connection_back_when_the_block_ends():
    def task():
        with tasks.returning_connections():
            backend_pid()
            during = in_use()
        return during, in_use(), connection.connection is None
    assert in_thread(task) == (1, 0, True)


def test_a_decorated_task_gives_its_connection_back_also_when_it_raises():
    @tasks.returning_connections
    def failing_task():
        backend_pid()
        raise ValueError('task failed')

    def run():
        with pytest.raises(ValueError):
            failing_task()
        return in_use()
    assert in_thread(run) == 0


class _Request(object):
    def __init__(self, is_eager):
        self.is_eager = is_eager


class _Task(object):
    def __init__(self, is_eager):
        self.request = _Request(is_eager)


def test_the_celery_receivers_give_back_after_a_worker_task_but_not_an_eager_one():
    def run():
        backend_pid()
        tasks._release_around_task(sender=_Task(is_eager=True), task=_Task(is_eager=True))
        after_eager = in_use()
        tasks._release_around_task(sender=_Task(is_eager=False), task=_Task(is_eager=False),
                                   task_id='x', args=(), kwargs={})
        return after_eager, in_use()
    assert in_thread(run) == (1, 0)


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork')
def test_a_forked_child_forgets_the_inherited_connection_without_closing_it():
    parent_backend = backend_pid()  # checked out across the fork

    def in_child():
        tasks.forget_inherited_connections(sender=None)
        message = '%s %s' % (connection.connection is None, backend_pid())
        connection.close()
        return message

    _, reply = run_in_child(in_child)
    forgotten, child_backend = reply.split()
    assert forgotten == 'True', reply
    assert int(child_backend) != parent_backend
    assert backend_pid() == parent_backend  # the parent's session is intact


def test_connect_celery_connects_the_three_signals_once():
    require('celery')
    from celery import signals
    tasks.connect_celery()
    tasks.connect_celery()
    for signal, receiver in ((signals.task_prerun, tasks._release_around_task),
                             (signals.task_postrun, tasks._release_around_task),
                             (signals.worker_process_init, tasks.forget_inherited_connections)):
        assert [r for r in signal._live_receivers(None) if r == receiver] == [receiver]
