"""What a thread is serving, for leak reports: the path of its current request.

Recorded by a ``request_started`` receiver that only reads (it never closes
anything, so the test client's handling of Django's own receivers is
unaffected). Connected the first time a pool with LEAK_TIMEOUT is made.
"""
from __future__ import absolute_import, division, print_function

import threading

from django.core.signals import request_started

_current = threading.local()
_connected = []


def remember_requests():
    """Start recording each thread's current request path (idempotent)."""
    if not _connected:
        request_started.connect(_remember_path, dispatch_uid='dbpool.db.borrowers')
        _connected.append(True)


def _remember_path(sender, **kwargs):
    # Django 1.3 sends no environ; later releases do.
    environ = kwargs.get('environ') or {}
    _current.path = '%s %s' % (environ.get('REQUEST_METHOD', ''), environ.get('PATH_INFO', ''))


def current_request():
    """'GET /path/' of this thread's request, or None outside one."""
    path = getattr(_current, 'path', None)
    return 'serving %s' % path if path else None
