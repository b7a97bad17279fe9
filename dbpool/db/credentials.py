"""OPTIONS['CREDENTIALS'] for Django: its dotted path imported, its failures as Django errors.

The core (dbpool.credentials) calls the provider and checks what it
returned; this module finds the provider a setting names and turns its
failures into ``django.db.OperationalError``, which a checkout raises as it
would for a server that refused the connection.
"""
from __future__ import absolute_import, division, print_function


from dbpool import credentials, errors
from dbpool.db import errors as django_errors
from dbpool.db.dotted import resolve_callable
from dbpool.pycompat import raise_from

KEY = credentials.KEY


def options_where(alias):
    """How messages name an alias' OPTIONS."""
    return "DATABASES['%s']['OPTIONS']" % alias


def resolve_provider(value, where):
    """The provider a CREDENTIALS value names (None for none); ImproperlyConfigured if none."""
    return resolve_callable(
        credentials.KEY, value, where,
        'a callable taking (alias, params) that returns the password or a dict of '
        'connection parameters')


def settings_provider(settings_dict, alias):
    """The resolved provider of an alias' settings, or None."""
    value = (settings_dict.get('OPTIONS') or {}).get(credentials.KEY)
    if value is None:
        return None
    return resolve_provider(value, options_where(alias))


def with_credentials(provider, alias, params):
    """``params`` with the provider's answer laid over them; a Django OperationalError if it fails."""
    try:
        return credentials.apply_credentials(provider, alias, params, options_where(alias))
    except errors.CredentialsError as exc:
        # Chained to the provider's own exception, when it raised one.
        raise_from(django_errors.CredentialsError(*exc.args),
                   getattr(exc, '__cause__', None) or exc)


def unpooled_params(settings_dict, alias, params):
    """Parameters for a connection opened outside the pool (Django's maintenance one)."""
    provider = settings_provider(settings_dict, alias)
    if provider is None:
        return params
    return with_credentials(provider, alias, params)
