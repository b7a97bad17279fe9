"""System checks for settings that cannot work well with the pool (Django 1.7+).

Django 1.3-1.6 have no checks framework: there the same settings still fail
at the first connection with ImproperlyConfigured (dbpool.db.pooling).
``register_checks()`` is called when the ``dbpool`` app is installed
(dbpool/models.py) and when the backend module loads.

- dbpool.E001: CONN_MAX_AGE is not 0.
- dbpool.E002: OPTIONS['pool'] (Django 5.1's own pool) is set.
- dbpool.E003: a pool key has a bad value (the message of the error the
  first connection would raise).
- dbpool.E004: an OPTIONS key that looks meant for the pool but is not one
  of its keys: an upper-case typo (MAX_CONN), one of ours in lower case
  (max_conns), psycopg_pool's spelling (max_size). Each would reach the
  driver and fail every connection with "invalid connection option".
- dbpool.E005: OPTIONS['STATS_CALLBACK'] names nothing importable or callable.
- dbpool.E006: OPTIONS['CREDENTIALS'] names nothing importable or callable.
- dbpool.W001 (database tag): MAX_CONNS x worker processes, summed over the
  aliases on one server, exceeds what the server accepts.
"""
from __future__ import absolute_import, division, print_function

import difflib
import os

from django.core.exceptions import ImproperlyConfigured

from dbpool.db import credentials, engines, probe, stats_export
from dbpool.options import OPTION_NAMES, parse_pool_options
from dbpool.pycompat import string_types

try:
    from django.core import checks
except ImportError:  # Django 1.3-1.5
    checks = None

WORKERS_SETTING = 'DBPOOL_WORKERS'
WORKERS_ENV = ('DBPOOL_WORKERS', 'WEB_CONCURRENCY')
_registered = []


def register_checks():
    """Register the checks once, where this Django has the framework (1.7+)."""
    register = getattr(checks, 'register', None)  # 1.6's checks module has no register
    if register is None or _registered:
        return
    register()(check_settings)
    # The server check connects, so it only runs when asked for: Django
    # 1.10-3.0 run 'database' checks on `check --tag database`, 3.1+ on
    # `check --database ALIAS` (and migrate). 1.7-1.9 would run it before
    # every command, so there it is not registered.
    database_tag = getattr(checks.Tags, 'database', None)
    if database_tag is not None:
        register(database_tag)(check_server_capacity)
    _registered.append(True)


def _databases():
    from django.conf import settings
    return settings.DATABASES


# -- Static checks ------------------------------------------------------------

def check_settings(app_configs=None, **kwargs):
    """dbpool.E001-E006 for every alias on a dbpool ENGINE."""
    databases = _databases()
    errors = []
    for alias in engines.pooled_aliases(databases):
        settings_dict = databases[alias]
        options = settings_dict.get('OPTIONS') or {}
        errors.extend(_check_conn_max_age(alias, settings_dict))
        errors.extend(_check_native_pool(alias, options))
        errors.extend(_check_values(alias, options))
        errors.extend(_check_unknown_keys(alias, options))
    return errors


def _check_conn_max_age(alias, settings_dict):
    max_age = settings_dict.get('CONN_MAX_AGE', 0)
    if max_age == 0:
        return []
    return [checks.Error(
        "DATABASES['%s']['CONN_MAX_AGE'] is %r, but the pooled ENGINE needs 0: a "
        'persistent connection would keep one pooled connection checked out by each '
        'thread for good, and the first connection raises ImproperlyConfigured.'
        % (alias, max_age),
        hint='Remove CONN_MAX_AGE or set it to 0. The pool keeps connections open '
             "between requests; OPTIONS['MAX_LIFETIME'] limits their age.",
        id='dbpool.E001')]


def _check_native_pool(alias, options):
    if not options.get('pool'):
        return []
    return [checks.Error(
        "DATABASES['%s']['OPTIONS']['pool'] turns on Django's own connection pool, "
        "which cannot run inside dbpool's." % alias,
        hint="Remove 'pool'; size dbpool's pool with MAX_CONNS and MIN_CONNS.",
        id='dbpool.E002')]


def _check_values(alias, options):
    where = "DATABASES['%s']['OPTIONS']" % alias
    try:
        parsed = parse_pool_options(options, where)
    except ValueError as exc:
        return [checks.Error(str(exc), id='dbpool.E003')]
    try:
        stats_export.resolve_stats_callback(parsed, where)
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id='dbpool.E005')]
    try:
        credentials.resolve_provider(parsed.credentials, where)
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id='dbpool.E006')]
    return []


# Other pools' names for our settings (psycopg_pool's, which Django 5.1's
# OPTIONS['pool'] takes), by lower-case key.
OTHER_POOLS_NAMES = {
    'min_size': 'MIN_CONNS',
    'max_size': 'MAX_CONNS',
    'timeout': 'POOL_TIMEOUT',
    'max_idle': 'IDLE_TIMEOUT',
}
# How close a lower-case key must be to one of ours to be taken for it:
# libpq's and Django's own keys (connect_timeout, keepalives_interval) score
# at most 0.67 against ours, a misspelt max_conn 0.94.
_LOWER_CASE_CUTOFF = 0.85


def _check_unknown_keys(alias, options):
    errors = []
    for key in sorted(k for k in options if isinstance(k, string_types)):
        meant = _meant_for_pool(key)
        if meant is None:
            continue
        errors.append(checks.Error(
            "DATABASES['%s']['OPTIONS'] has %s, which is not a dbpool setting: it would "
            'reach the driver and every connection would fail.' % (alias, key),
            hint=meant, id='dbpool.E004'))
    return errors


def _meant_for_pool(key):
    """The hint for an OPTIONS key that looks meant for the pool, else None."""
    if key in OPTION_NAMES:
        return None
    names = sorted(OPTION_NAMES)
    other = OTHER_POOLS_NAMES.get(key.lower())
    if other is not None:
        return 'Did you mean %s? %s is what psycopg_pool calls it.' % (other, key)
    if key.isupper():  # libpq's and Django's keys are lower case; ours upper case
        close = difflib.get_close_matches(key, names, n=1)
        return 'Did you mean %s?' % close[0] if close else (
            'dbpool reads: %s.' % ', '.join(names))
    close = difflib.get_close_matches(key.upper(), names, n=1, cutoff=_LOWER_CASE_CUTOFF)
    if close:
        return 'Did you mean %s? dbpool reads its keys in upper case only.' % close[0]
    return None


# -- Server check ---------------------------------------------------------------

def expected_workers():
    """(processes per deployment, where the number came from)."""
    from django.conf import settings
    value = getattr(settings, WORKERS_SETTING, None)
    source = 'settings.%s' % WORKERS_SETTING
    if value is None:
        for name in WORKERS_ENV:
            if os.environ.get(name):
                value, source = os.environ[name], '$%s' % name
                break
    if value is None:
        return 1, 'no %s setting or environment variable: assumed 1' % WORKERS_SETTING
    try:
        return max(1, int(value)), source
    except (TypeError, ValueError):
        return 1, '%s=%r is not a whole number: assumed 1' % (source, value)


def check_server_capacity(app_configs=None, **kwargs):
    """dbpool.W001: MAX_CONNS x workers per server against its max_connections."""
    databases = _databases()
    if 'databases' in kwargs:  # Django 3.1+: only the aliases asked for, if any
        wanted = kwargs['databases'] or []
    else:  # 1.10-3.0, `check --tag database`: all of them
        wanted = list(databases)
    workers, source = expected_workers()
    by_server = {}
    for alias in engines.pooled_aliases(databases):
        settings_dict = databases[alias]
        server = (settings_dict.get('HOST') or '', str(settings_dict.get('PORT') or ''))
        by_server.setdefault(server, []).append(alias)
    warnings = []
    for server, aliases in sorted(by_server.items()):
        if not set(aliases) & set(wanted):
            continue
        warnings.extend(_check_one_server(server, aliases, databases, workers, source))
    return warnings


def _check_one_server(server, aliases, databases, workers, source):
    per_process = 0
    for alias in aliases:
        try:
            per_process += parse_pool_options(databases[alias].get('OPTIONS') or {},
                                              alias).max_conns
        except ValueError:
            return []  # dbpool.E003 reports it
    try:
        facts = probe.server_facts(aliases[0])
    except Exception:
        return []  # unreadable: Django's own checks report an unreachable server
    usable = facts['max_connections'] - facts['superuser_reserved_connections']
    wanted = per_process * workers
    if wanted <= usable:
        return []
    return [checks.Warning(
        'The pools of %s may open %d connections per process x %d processes (%s) = %d, '
        'but the server at %s:%s accepts %d (max_connections=%d, %d reserved for '
        'superusers); past that, connections fail with "too many clients".' % (
            ', '.join(aliases), per_process, workers, source, wanted,
            server[0] or 'local socket', server[1] or '5432', usable,
            facts['max_connections'], facts['superuser_reserved_connections']),
        hint='Lower MAX_CONNS, raise max_connections, or put PgBouncer in front. Set '
             'DBPOOL_WORKERS (setting or environment) to your process count; '
             'WEB_CONCURRENCY is read too.',
        id='dbpool.W001')]
