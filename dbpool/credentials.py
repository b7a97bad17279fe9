"""Connection secrets asked for at every new physical connection (OPTIONS['CREDENTIALS']).

A provider is a callable ``provider(alias, params)``. ``params`` is a copy
of the parameters the connection is about to be opened with, without its
secrets and without the driver objects: text and numbers only (``host``,
``port``, ``user``, ``dbname`` or ``database``, ``sslmode``...). It returns
the password as text, or a dict of libpq parameters (``password``, and
any other such as ``user`` or ``sslrootcert``) laid over ``params`` for
that one connection.

What the provider returns is used once and never kept: not in the pool's
key (which holds the provider itself, so a rotated password is still the
same pool), not in a message. Errors name the setting and the provider's
exception, never the value it returned.
"""
from __future__ import absolute_import, division, print_function

from dbpool import secrets
from dbpool.errors import CredentialsError
from dbpool.pycompat import integer_types, raise_from, string_types

KEY = 'CREDENTIALS'

# What ``params`` shows a provider: the values libpq itself reads.
_PLAIN_TYPES = string_types + integer_types + (float,)
_EXPECTED = ("it must return the password as a string, or a dict of libpq connection "
             "parameters such as {'password': ..., 'user': ...}")


def describe(provider):
    """The provider's name for messages: its dotted path, never its repr (which may hold a secret)."""
    if isinstance(provider, string_types):
        return provider
    named = provider if hasattr(provider, '__name__') else type(provider)
    name = getattr(named, '__qualname__', None) or getattr(named, '__name__', '?')
    module = getattr(named, '__module__', None)
    return '%s.%s' % (module, name) if module else name


def public_params(params):
    """The parameters a provider is shown: no secret, no driver object, conninfo masked."""
    public = {}
    for name, value in params.items():
        lowered = name.lower()
        if lowered in secrets.SECRET_NAMES or not isinstance(value, _PLAIN_TYPES) \
                or isinstance(value, bool):
            continue
        if lowered in secrets.CONNINFO_NAMES and isinstance(value, string_types):
            value = secrets.mask_conninfo(value)
        public[name] = value
    return public


def apply_credentials(provider, alias, params, where):
    """``params`` (a new dict) updated with what ``provider`` returns for ``alias``.

    ``where`` names the OPTIONS dict in messages. Raises CredentialsError,
    chained to the provider's exception, if it raised or returned what
    no connection can be opened with.
    """
    setting = "%s['%s']" % (where, KEY)
    try:
        given = provider(alias, public_params(params))
    except Exception as exc:
        # The exception's own text is the user's; a conninfo in it is masked.
        raise_from(CredentialsError(
            "dbpool: %s (%s) raised %s: %s; no connection was opened. Fix the provider: "
            "the pool calls it again for its next new connection."
            % (setting, describe(provider), type(exc).__name__,
               secrets.mask_conninfo(str(exc)))), exc)
    merged = dict(params)
    merged.update(_as_params(given, setting, provider))
    return merged


def _as_params(given, setting, provider):
    # Messages name types and parameter names only: what came back may be
    # a secret even when it is the wrong shape.
    def refuse(what):
        raise CredentialsError('dbpool: %s (%s) returned %s; %s.'
                               % (setting, describe(provider), what, _EXPECTED))

    if isinstance(given, string_types):
        return {'password': given}
    if not isinstance(given, dict):
        refuse('a %s' % type(given).__name__)
    for name, value in given.items():
        if not isinstance(name, string_types) or not name:
            refuse('a dict with a key that is a %s, not a parameter name' % type(name).__name__)
        if name != name.lower():
            refuse("a dict with the key '%s': parameter names are libpq's, in lower case "
                   "('password', not 'PASSWORD')" % name)
        if isinstance(value, bool) or not isinstance(value, _PLAIN_TYPES):
            refuse("a dict whose '%s' is a %s, not text or a number"
                   % (name, type(value).__name__))
    return given
