"""Parse and check the pool's OPTIONS keys into a plain PoolOptions object."""
from __future__ import absolute_import, division, print_function

import os

from dbpool.pycompat import integer_types, string_types

RESET_AUTO = 'auto'          # reset a session only when it may have changed
RESET_FULL = 'full'          # reset every session, whatever happened
RESET_ROLLBACK = 'rollback'  # end the transaction only, never reset
RESET_POLICIES = (RESET_AUTO, RESET_FULL, RESET_ROLLBACK)

SCOPE_REQUEST = 'request'          # a borrower keeps its connection until it closes it
SCOPE_TRANSACTION = 'transaction'  # ... or until a statement ends outside a transaction
CHECKOUT_SCOPES = (SCOPE_REQUEST, SCOPE_TRANSACTION)

# Every key the pool reads from OPTIONS, with its default. They are removed
# from the copy of the connection parameters before the driver sees them.
DEFAULTS = {
    'MAX_CONNS': 10,
    'MIN_CONNS': None,          # None: MAX_CONNS if MAX_CONNS is given, else 0
    'POOL_TIMEOUT': 30.0,       # seconds a checkout waits when all are busy
    'MAX_LIFETIME': 3600.0,     # seconds; None or 0 keeps connections forever
    'IDLE_TIMEOUT': 600.0,      # seconds; idle connections above MIN_CONNS close
    'TEST_ON_BORROW': False,    # run TEST_ON_BORROW_QUERY at every checkout
    'TEST_ON_BORROW_QUERY': 'SELECT 1',
    'TEST_AFTER_IDLE': 5.0,     # seconds idle after which a checkout pings first
    'HEALTH_CHECK': None,       # callable(connection) run instead of the ping (or its dotted path)
    'PING_TIMEOUT': 5.0,        # seconds the ping or the reset may take
    'RESET_ON_RETURN': RESET_AUTO,
    'CHECKOUT_SCOPE': SCOPE_REQUEST,
    'TRUSTED_FUNCTIONS': (),    # database functions known to change no session state
    'LEAK_TIMEOUT': None,       # seconds a checkout may last before a warning
    'STATS_CALLBACK': None,     # callable(alias, stats) (the Django layer resolves a dotted path)
    'STATS_INTERVAL': 10.0,     # seconds between two STATS_CALLBACK calls
    'CREDENTIALS': None,        # callable(alias, params) giving each new connection's password
}
OPTION_NAMES = frozenset(DEFAULTS)

# libpq's target_session_attrs values that want a server taking writes. A
# pool given one checks, at checkout, that the server has not reported
# itself read-only since (dbpool.health.reports_read_only): decided here,
# once per pool, so a pool without one pays nothing for it.
WRITABLE_TARGETS = ('read-write', 'primary')


class PoolOptions(object):
    """The checked pool settings of one database alias."""

    # writable_target: read from the driver's own OPTIONS key, not ours.
    __slots__ = tuple(name.lower() for name in DEFAULTS) + ('writable_target',)

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values[name])

    def __repr__(self):
        fields = ', '.join('%s=%r' % (n.upper(), getattr(self, n)) for n in self.__slots__)
        return 'PoolOptions(%s)' % fields


def split_pool_options(options):
    """Return (pool keys, everything else) from an OPTIONS-like dict, copying both."""
    pool = {}
    rest = {}
    for key, value in options.items():
        if key in OPTION_NAMES:
            pool[key] = value
        else:
            rest[key] = value
    return pool, rest


def parse_pool_options(options, where):
    """Check the pool keys of ``options``; raise ValueError naming ``where`` and the key."""
    given, _ = split_pool_options(options)
    values = dict(DEFAULTS)
    values.update(given)
    checker = _Checker(where)

    max_conns = checker.integer('MAX_CONNS', values['MAX_CONNS'], minimum=1)
    min_conns = values['MIN_CONNS']
    if min_conns is None:
        # The historic django-db-pool kept MAX_CONNS connections open when
        # MIN_CONNS was not given; a config that names no size stays light.
        min_conns = max_conns if 'MAX_CONNS' in given else 0
    min_conns = checker.integer('MIN_CONNS', min_conns, minimum=0)
    if min_conns > max_conns:
        raise ValueError(
            'MIN_CONNS (%d) is greater than MAX_CONNS (%d) in %s; '
            'set MIN_CONNS to at most MAX_CONNS.' % (min_conns, max_conns, where))

    query = values['TEST_ON_BORROW_QUERY']
    if not isinstance(query, string_types) or not query.strip():
        checker.fail('TEST_ON_BORROW_QUERY', query, 'a non-empty SQL string such as "SELECT 1"')
    policy = values['RESET_ON_RETURN']
    if policy not in RESET_POLICIES:
        checker.fail('RESET_ON_RETURN', policy, 'one of %s' % ', '.join(
            "'%s'" % p for p in RESET_POLICIES))

    scope = values['CHECKOUT_SCOPE']
    if scope not in CHECKOUT_SCOPES:
        checker.fail('CHECKOUT_SCOPE', scope, 'one of %s' % ', '.join(
            "'%s'" % s for s in CHECKOUT_SCOPES))
    if scope == SCOPE_TRANSACTION and policy != RESET_AUTO:
        raise ValueError(
            "CHECKOUT_SCOPE='transaction' with RESET_ON_RETURN=%r in %s: transaction scope "
            "gives a connection back after each statement, which only RESET_ON_RETURN='auto' "
            "(the default) does without a reset round trip each time. Remove RESET_ON_RETURN "
            "or set it to 'auto'." % (policy, where))

    return PoolOptions(
        max_conns=max_conns,
        min_conns=min_conns,
        pool_timeout=checker.seconds('POOL_TIMEOUT', values['POOL_TIMEOUT']),
        max_lifetime=checker.seconds('MAX_LIFETIME', values['MAX_LIFETIME'], optional=True),
        idle_timeout=checker.seconds('IDLE_TIMEOUT', values['IDLE_TIMEOUT'], optional=True),
        test_on_borrow=checker.boolean('TEST_ON_BORROW', values['TEST_ON_BORROW']),
        test_on_borrow_query=query,
        test_after_idle=checker.seconds('TEST_AFTER_IDLE', values['TEST_AFTER_IDLE'],
                                        optional=True),
        ping_timeout=checker.seconds('PING_TIMEOUT', values['PING_TIMEOUT'], optional=True),
        health_check=checker.callback('HEALTH_CHECK', values['HEALTH_CHECK'],
                                      'a callable taking the driver connection'),
        reset_on_return=policy,
        checkout_scope=scope,
        trusted_functions=checker.names('TRUSTED_FUNCTIONS', values['TRUSTED_FUNCTIONS']),
        leak_timeout=checker.seconds('LEAK_TIMEOUT', values['LEAK_TIMEOUT'], optional=True),
        stats_callback=checker.callback('STATS_CALLBACK', values['STATS_CALLBACK'],
                                        'a callable taking (alias, stats)'),
        stats_interval=checker.seconds('STATS_INTERVAL', values['STATS_INTERVAL']),
        credentials=checker.callback(
            'CREDENTIALS', values['CREDENTIALS'],
            'a callable taking (alias, params) that returns the password or a dict of '
            'connection parameters'),
        writable_target=writable_target(options),
    )


def writable_target(options, environ=None):
    """'read-write' or 'primary' when connections must reach a primary, else None.

    That is libpq's target_session_attrs, from OPTIONS (the driver gets it
    unchanged) or, as libpq reads it, from PGTARGETSESSIONATTRS.
    """
    value = options.get('target_session_attrs')
    if value is None:
        value = (os.environ if environ is None else environ).get('PGTARGETSESSIONATTRS')
    return value if value in WRITABLE_TARGETS else None


class _Checker(object):
    """Type checks that raise one message shape naming the key and the value."""

    def __init__(self, where):
        self.where = where

    def fail(self, key, value, expected):
        raise ValueError('%s=%r in %s is not valid: %s must be %s.' % (
            key, value, self.where, key, expected))

    def integer(self, key, value, minimum):
        if isinstance(value, bool) or not isinstance(value, integer_types) or value < minimum:
            self.fail(key, value, 'a whole number of at least %d' % minimum)
        return int(value)

    def seconds(self, key, value, optional=False):
        # None (or 0 for the optional limits) switches a limit off.
        if optional and (value is None or value == 0):
            return None
        if isinstance(value, bool) or not isinstance(value, integer_types + (float,)) \
                or value < 0 or (not optional and value == 0):
            expected = 'a number of seconds greater than 0'
            if optional:
                expected += ', or None to switch it off'
            self.fail(key, value, expected)
        return float(value)

    def callback(self, key, value, takes):
        # A dotted path is checked here for its shape only; whoever builds
        # the pool imports it (the core imports nothing by name).
        if value is None or callable(value):
            return value
        if isinstance(value, string_types) and '.' in value.strip('.'):
            return value
        self.fail(key, value, '%s or its dotted path' % takes)

    def names(self, key, value):
        # Function names, compared case-insensitively and without a schema.
        if value is None:
            value = ()
        if not isinstance(value, (list, tuple, set, frozenset)) or not all(
                isinstance(name, string_types) and name.strip() for name in value):
            self.fail(key, value, 'a list of function names such as ["audit_trigger"]')
        return frozenset(name.strip().lower().rsplit('.', 1)[-1] for name in value)

    def boolean(self, key, value):
        if not isinstance(value, bool):
            self.fail(key, value, 'True or False')
        return value
