"""``postgres+dbpool://`` URLs for dj-database-url and django-environ, without forking them.

In settings.py, before parsing the URL::

    from dbpool.db import urlschemes
    urlschemes.register()   # whichever of the two libraries is installed
    DATABASES = {'default': dj_database_url.config()}   # or env.db()

with ``DATABASE_URL=postgres+dbpool://user:pw@host:5432/app?MAX_CONNS=8``.
``postgresql+dbpool://`` works too. Query parameters become OPTIONS, as for
``postgres://``; the pool's own keys there arrive as text, and are turned
into numbers, booleans or None (``coerce_pool_options``) by dj-database-url's
post-processing here, or by calling ``coerce_pool_options`` on django-environ's
result. Nothing here imports Django settings, so settings.py may use it.
"""
from __future__ import absolute_import, division, print_function

import re

from dbpool.options import DEFAULTS, OPTION_NAMES

ENGINE = 'dbpool.db.backends.postgresql'
SCHEMES = ('postgres+dbpool', 'postgresql+dbpool')
_NUMBER = re.compile(r'^-?\d+(\.\d*)?$')


def register():
    """Register the schemes with every supported URL library that is installed."""
    done = []
    for name, function in (('dj_database_url', register_dj_database_url),
                           ('environ', register_django_environ)):
        try:
            function()
        except ImportError:
            continue
        done.append(name)
    return done


def register_dj_database_url():
    """Teach dj-database-url (2.x ``register``; 0.x ``SCHEMES``) our schemes."""
    import dj_database_url
    register_scheme = getattr(dj_database_url, 'register', None)
    if register_scheme is not None:  # 2.0+
        for scheme in SCHEMES:
            register_scheme(scheme, ENGINE)(_postprocess)
        return
    # 0.x: a module-level table; the URL parser must know the scheme has a netloc.
    try:
        from urllib import parse as urlparse
    except ImportError:  # Python 2
        import urlparse
    for scheme in SCHEMES:
        dj_database_url.SCHEMES[scheme] = ENGINE
        if scheme not in urlparse.uses_netloc:
            urlparse.uses_netloc.append(scheme)


def register_django_environ():
    """Teach django-environ's ``Env.db()`` our schemes (as PostgreSQL URLs)."""
    import environ
    env_class = environ.Env
    for scheme in SCHEMES:
        env_class.DB_SCHEMES[scheme] = ENGINE
        family = getattr(env_class, 'POSTGRES_FAMILY', None)  # unix sockets, clusters
        if family is not None and scheme not in family:
            family.append(scheme)


def _postprocess(config):
    # What dj-database-url does for postgres:// (currentSchema), then our keys.
    options = config.get('OPTIONS', {})
    schema = options.pop('currentSchema', None)
    if schema:
        options['options'] = '-c search_path=%s' % schema
    coerce_pool_options(config)


def coerce_pool_options(config):
    """Turn the text values of the pool's OPTIONS keys into what they mean; returns ``config``."""
    options = config.get('OPTIONS') or {}
    for key in OPTION_NAMES:
        value = options.get(key)
        if value is None or not hasattr(value, 'lower'):
            continue
        options[key] = _from_text(value, DEFAULTS[key])
    return config


def _from_text(text, default):
    lowered = text.strip().lower()
    if lowered in ('none', 'null', ''):
        return None
    if lowered in ('true', 'false'):
        return lowered == 'true'
    if _NUMBER.match(lowered):
        return float(lowered) if ('.' in lowered or isinstance(default, float)) \
            else int(lowered)
    return text  # a query, a policy name, a dotted path
