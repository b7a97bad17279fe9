"""OPTIONS['HEALTH_CHECK'] given as a dotted path: imported here, not in the core.

The pool calls the check where it would ping (TEST_ON_BORROW,
TEST_AFTER_IDLE, a connection that looks gone): see docs/options.md.
"""
from __future__ import absolute_import, division, print_function

from dbpool.db.dotted import resolve_callable


def resolve_health_check(options, where):
    """Replace a dotted-path HEALTH_CHECK in parsed ``options`` by what it names."""
    options.health_check = resolve_callable(
        'HEALTH_CHECK', options.health_check, where, 'a function taking the driver connection')
    return options
