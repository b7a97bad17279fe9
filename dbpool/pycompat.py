"""Python 2/3 shims for the core; imports no Django."""
from __future__ import absolute_import, division, print_function

import os
import sys
import time

PY2 = sys.version_info[0] == 2

# time.monotonic arrived in 3.3. On 2.7 the wall clock is the best we have,
# so the pool guards against it jumping backwards (see ``elapsed``).
monotonic = getattr(time, 'monotonic', time.time)

if PY2:  # pragma: no cover - exercised in the 2.7 cells
    string_types = (str, unicode)  # noqa: F821
else:
    string_types = (str,)

integer_types = (int, long) if PY2 else (int,)  # noqa: F821

# os.register_at_fork arrived in 3.7; older Pythons fall back to comparing
# os.getpid() with the pid recorded at start-up.
register_at_fork = getattr(os, 'register_at_fork', None)


def elapsed(since, now=None):
    """Seconds from ``since`` to now, never negative even if the clock jumps back."""
    if now is None:
        now = monotonic()
    return max(0.0, now - since)


def raise_from(exc, cause):
    """Raise ``exc`` chained to ``cause`` where Python supports chaining."""
    exc.__cause__ = cause
    raise exc
