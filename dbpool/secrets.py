"""Passwords kept out of every repr, key and message the pool owns.

The pool has to keep the password: its connector opens connections with
it, and a checkout compares Django's settings with the copy it made at the
last lookup. What it keeps is *hidden* text: a subclass of the string type
that compares, hashes and sorts as the plain value at C speed (so the
per-checkout compare costs what it did), but whose ``repr()`` and ``str()``
show ``'********'``, or a conninfo string with its password masked. The
plain value is taken back (``reveal``) only when a connection is opened.

Pool keys, which live as long as their pool, get a digest instead: an HMAC
under a key drawn once per process, so equal passwords give equal keys
and nothing in a key can be checked against a guess.
"""
from __future__ import absolute_import, division, print_function

import hashlib
import hmac
import os
import re

from dbpool.pycompat import PY2

MASK = '********'

# libpq's secret parameters (also Django's PASSWORD, compared ignoring case).
SECRET_NAMES = frozenset(['password', 'sslpassword'])
# Parameters holding a whole libpq conninfo string or URI, which may carry a password.
CONNINFO_NAMES = frozenset(['dsn', 'conninfo'])
# The spellings looked up in a dict: libpq's, in lower case, and Django's
# settings, in upper case. A set intersection finds them at C speed: a new
# thread's first checkout hides and digests its settings.
_SPELLINGS = frozenset(spelling for name in SECRET_NAMES | CONNINFO_NAMES
                       for spelling in (name, name.upper()))

# password=... or sslpassword=... in a key=value conninfo: a quoted value,
# or one up to the next blank (libpq wants quotes and backslashes escaped
# in both; a quote ends it where a conninfo is itself quoted, in a repr).
_KEYWORD_SECRET = re.compile(r"""(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|(?:[^\s'\\]|\\.)+)""",
                             re.IGNORECASE)
# postgres://user:password@host and ?password=... / &sslpassword=... in a URI.
_URI_USERINFO = re.compile(r'^(postgres(?:ql)?://[^:/@?#]*:)[^@/?#]*@', re.IGNORECASE)
_URI_QUERY_SECRET = re.compile(r'([?&](?:ssl)?password=)[^&#]*', re.IGNORECASE)

_DIGEST_KEY = os.urandom(32)
# BLAKE2 takes a key itself (one C call); Python 2.7 has only HMAC.
_blake2b = getattr(hashlib, 'blake2b', None)


def mask_conninfo(text):
    """``text`` (a libpq conninfo string or URI) with every password replaced by the mask."""
    if '://' in text:
        text = _URI_USERINFO.sub(r'\1' + MASK + '@', text)
        return _URI_QUERY_SECRET.sub(r'\1' + MASK, text)
    return _KEYWORD_SECRET.sub(r'\1' + MASK, text)


def digest(value):
    """A keyed digest of ``value``, equal for equal values within this process."""
    if not isinstance(value, bytes):
        value = value.encode('utf-8')
    if _blake2b is not None:
        return 'blake2b:' + _blake2b(value, key=_DIGEST_KEY, digest_size=12).hexdigest()
    return 'hmac-sha256:' + hmac.new(_DIGEST_KEY, value, hashlib.sha256).hexdigest()[:24]


def _hidden_class(base):
    class Hidden(base):
        """Text that is the secret when compared, the mask when shown."""

        __slots__ = ()

        def _shown(self):
            plain = self[:]
            masked = mask_conninfo(plain)
            return masked if masked != plain else MASK

        def __repr__(self):
            return "'%s'" % self._shown()

        def __str__(self):
            return str(self._shown())

        if PY2:  # pragma: no cover - exercised in the 2.7 cells
            def __unicode__(self):
                return self._shown().decode('ascii') if isinstance(self, bytes) \
                    else unicode(self._shown())  # noqa: F821

    Hidden.__name__ = str('Hidden' + base.__name__.capitalize())
    return Hidden


_HIDDEN = dict((base, _hidden_class(base)) for base in (
    (str, unicode) if PY2 else (str,)))  # noqa: F821
_HIDDEN_TYPES = tuple(_HIDDEN.values())


def hide(name, value):
    """``value`` as the pool keeps it: hidden when ``name`` holds a secret, else as it is."""
    if isinstance(value, _HIDDEN_TYPES):
        return value
    lowered = name.lower() if isinstance(name, (str, type(u''))) else None
    if lowered in SECRET_NAMES or lowered in CONNINFO_NAMES:
        hidden = _HIDDEN.get(type(value))
        if hidden is not None and (lowered in SECRET_NAMES or mask_conninfo(value) != value):
            return hidden(value)
    return value


def reveal(value):
    """The plain value of what ``hide`` returned (anything else unchanged)."""
    if isinstance(value, _HIDDEN_TYPES):
        return value[:]  # a slice of a str subclass is a plain str
    return value


def hide_dict(values):
    """A copy of a settings or parameters dict with its secrets hidden (nested dicts too)."""
    return _copy(values, hide_dict, hide)


def reveal_dict(values):
    """A copy of a ``hide_dict`` result with plain values again."""
    return _copy(values, reveal_dict, lambda name, value: reveal(value))


def _copy(values, copy_nested, convert):
    copied = dict(values)
    for name in _SPELLINGS.intersection(copied):
        copied[name] = convert(name, copied[name])
    for name in [name for name, value in copied.items() if isinstance(value, dict)]:
        copied[name] = copy_nested(copied[name])  # OPTIONS, TEST
    return copied


def key_value(name, value):
    """``value`` as a pool key holds it: a digest in place of a secret."""
    if name not in _SPELLINGS:
        return value
    hidden = hide(name, value)
    if hidden is value:
        return value
    plain = reveal(hidden)
    if name.lower() in SECRET_NAMES:
        return digest(plain)
    return (mask_conninfo(plain), digest(plain))
