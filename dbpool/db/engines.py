"""Which DATABASES aliases are pooled: those whose backend class has the pool glue.

An ENGINE is pooled when its DatabaseWrapper is a subclass of
``PoolingMixin``, whatever the ENGINE is called: dbpool's own backends,
and a wrapper stacked on one of them (django-tenants'
``django_tenants.postgresql_backend`` with
``ORIGINAL_BACKEND = 'dbpool.db.backends.postgresql'``, a project's own
subclass). Finding out imports the ENGINE's ``base`` module, as Django
does at the first use of the alias; it opens no connection.
"""
from __future__ import absolute_import, division, print_function

import importlib
import logging

logger = logging.getLogger('dbpool')

# Our own ENGINEs are pooled by name, even when their module cannot be
# imported here: the checks then still look at their settings, and the
# import error shows at the first connection.
OWN_ENGINE_PREFIX = 'dbpool.db.backends.'


def wrapper_class(engine):
    """The DatabaseWrapper class of ENGINE ``engine``, or None if it cannot be imported."""
    try:
        module = importlib.import_module('%s.base' % engine)
    except Exception as exc:  # any error of a third-party import: not ours to report
        logger.debug('dbpool: ENGINE %s cannot be imported: %s', engine, exc)
        return None
    return getattr(module, 'DatabaseWrapper', None)


def is_pooled_engine(engine):
    """True when ENGINE ``engine`` is one of ours or wraps one of ours."""
    if not engine:
        return False
    if engine.startswith(OWN_ENGINE_PREFIX):
        return True
    from dbpool.db.pooling import PoolingMixin  # here: the backends import this module's users
    found = wrapper_class(engine)
    return isinstance(found, type) and issubclass(found, PoolingMixin)


def pooled_aliases(databases):
    """The aliases of a DATABASES-like dict whose ENGINE is pooled, sorted."""
    return sorted(alias for alias, settings_dict in databases.items()
                  if is_pooled_engine(settings_dict.get('ENGINE') or ''))
