"""OPTIONS['HEALTH_CHECK'] given as a dotted path: imported here, not in the core.

The pool calls the check where it would ping (TEST_ON_BORROW,
TEST_AFTER_IDLE, a connection that looks gone): see docs/options.md.
"""
from __future__ import absolute_import, division, print_function

from django.core.exceptions import ImproperlyConfigured

from dbpool.db.stats_export import import_callable
from dbpool.pycompat import string_types


def resolve_health_check(options, where):
    """Replace a dotted-path HEALTH_CHECK in parsed ``options`` by what it names."""
    path = options.health_check
    if not isinstance(path, string_types):
        return options
    try:
        found = import_callable(path)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ImproperlyConfigured(
            "HEALTH_CHECK=%r in %s cannot be imported (%s); give the dotted path of a "
            'function taking the driver connection.' % (path, where, exc))
    if not callable(found):
        raise ImproperlyConfigured('HEALTH_CHECK=%r in %s is not callable.' % (path, where))
    options.health_check = found
    return options
