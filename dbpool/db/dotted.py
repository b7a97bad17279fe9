"""OPTIONS values that name a callable by its dotted path, resolved for Django.

The core takes callables only; the Django layer accepts a dotted path as
well (``"myproject.metrics.report"``) and imports it here, with an
ImproperlyConfigured that names the key and what the callable must take.
"""
from __future__ import absolute_import, division, print_function

import importlib

from django.core.exceptions import ImproperlyConfigured

from dbpool.pycompat import string_types


def import_callable(path):
    """The object a dotted path names; ImportError or AttributeError if none."""
    module_name, _, attribute = path.rpartition('.')
    return getattr(importlib.import_module(module_name), attribute)


def resolve_callable(key, value, where, takes):
    """``value`` itself, or the callable its dotted path names.

    ``takes`` says what the callable is given and returns, for the message
    (e.g. "a function taking (alias, stats)").
    """
    if not isinstance(value, string_types):
        return value
    try:
        found = import_callable(value)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ImproperlyConfigured(
            '%s=%r in %s cannot be imported (%s: %s); give the dotted path of %s.'
            % (key, value, where, type(exc).__name__, exc, takes))
    if not callable(found):
        raise ImproperlyConfigured('%s=%r in %s is not callable.' % (key, value, where))
    return found
