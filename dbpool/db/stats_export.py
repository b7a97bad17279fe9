"""OPTIONS['STATS_CALLBACK'] given as a dotted path: imported here, not in the core."""
from __future__ import absolute_import, division, print_function

import importlib

from django.core.exceptions import ImproperlyConfigured

from dbpool.pycompat import string_types


def import_callable(path):
    """The object a dotted path names; ImportError or AttributeError if none."""
    module_name, _, attribute = path.rpartition('.')
    return getattr(importlib.import_module(module_name), attribute)


def resolve_stats_callback(options, where):
    """Replace a dotted-path STATS_CALLBACK in parsed ``options`` by what it names."""
    path = options.stats_callback
    if not isinstance(path, string_types):
        return options
    try:
        found = import_callable(path)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ImproperlyConfigured(
            "STATS_CALLBACK=%r in %s cannot be imported (%s); give the dotted path of a "
            'function taking (alias, stats).' % (path, where, exc))
    if not callable(found):
        raise ImproperlyConfigured('STATS_CALLBACK=%r in %s is not callable.' % (path, where))
    options.stats_callback = found
    return options
