"""Which process are we? Cheap answers for the pool's fork checks."""
from __future__ import absolute_import, division, print_function

import os

from dbpool.pycompat import register_at_fork

_pid = [os.getpid()]
_child_callbacks = []


def _after_fork_in_child():
    _pid[0] = os.getpid()
    for callback in list(_child_callbacks):
        callback()


if register_at_fork is not None:
    register_at_fork(after_in_child=_after_fork_in_child)

    def current_pid():
        """This process's id, kept current by the fork hook (no system call)."""
        return _pid[0]
else:  # Python 2.7 and 3.6: no fork hook, so ask every time and notice the change.
    def current_pid():
        """This process's id; runs the child callbacks when it changed since last asked."""
        pid = os.getpid()
        if pid != _pid[0]:
            _after_fork_in_child()
        return pid


def on_fork_in_child(callback):
    """Run ``callback()`` in a child process, once, before it next touches a pool."""
    _child_callbacks.append(callback)
