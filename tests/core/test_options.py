"""Pool settings: defaults, and errors that name the key and the value."""
from __future__ import absolute_import, division, print_function

import pytest

from dbpool.options import parse_pool_options, split_pool_options

WHERE = "DATABASES['default']['OPTIONS']"


def test_defaults_are_documented_values():
    options = parse_pool_options({}, WHERE)
    assert options.max_conns == 10
    assert options.min_conns == 0
    assert options.pool_timeout == 30.0
    assert options.max_lifetime == 3600.0
    assert options.idle_timeout == 600.0
    assert options.test_on_borrow is False
    assert options.test_on_borrow_query == 'SELECT 1'
    assert options.test_after_idle == 5.0
    assert options.reset_on_return == 'auto'
    assert options.trusted_functions == frozenset()
    assert options.leak_timeout is None
    assert options.ping_timeout == 5.0


def test_the_historic_configuration_keeps_max_conns_open():
    # The original django-db-pool defaulted MIN_CONNS to MAX_CONNS.
    options = parse_pool_options({'MAX_CONNS': 1}, WHERE)
    assert (options.max_conns, options.min_conns) == (1, 1)


def test_limits_can_be_switched_off_with_none():
    options = parse_pool_options({'MAX_LIFETIME': None, 'IDLE_TIMEOUT': 0,
                                  'TEST_AFTER_IDLE': None}, WHERE)
    assert (options.max_lifetime, options.idle_timeout, options.test_after_idle) == (
        None, None, None)


def test_trusted_functions_are_compared_by_lower_case_name_without_schema():
    options = parse_pool_options({'TRUSTED_FUNCTIONS': ['Audit_Trigger', 'app.touch']}, WHERE)
    assert options.trusted_functions == frozenset(['audit_trigger', 'touch'])


def test_split_keeps_driver_options_apart_from_pool_options():
    pool, rest = split_pool_options({'MAX_CONNS': 3, 'sslmode': 'disable'})
    assert pool == {'MAX_CONNS': 3}
    assert rest == {'sslmode': 'disable'}


@pytest.mark.parametrize('key, value', [
    ('MAX_CONNS', 0), ('MAX_CONNS', -1), ('MAX_CONNS', '8'), ('MAX_CONNS', 2.5),
    ('MAX_CONNS', True), ('MIN_CONNS', -1), ('MIN_CONNS', 'two'),
    ('POOL_TIMEOUT', -1), ('POOL_TIMEOUT', 0), ('POOL_TIMEOUT', None), ('POOL_TIMEOUT', '5'),
    ('MAX_LIFETIME', -5), ('IDLE_TIMEOUT', -0.5), ('TEST_AFTER_IDLE', -1),
    ('TEST_ON_BORROW', 'yes'), ('TEST_ON_BORROW_QUERY', ''), ('TEST_ON_BORROW_QUERY', 3),
    ('RESET_ON_RETURN', 'discard'), ('LEAK_TIMEOUT', -1), ('LEAK_TIMEOUT', 'soon'),
    ('TRUSTED_FUNCTIONS', 'audit_trigger'), ('TRUSTED_FUNCTIONS', ['']),
    ('TRUSTED_FUNCTIONS', [3]),
])
def test_a_bad_value_is_refused_with_its_key_value_and_place(key, value):
    with pytest.raises(ValueError) as raised:
        parse_pool_options({key: value}, WHERE)
    message = str(raised.value)
    assert message.startswith('%s=%r in %s' % (key, value, WHERE))
    assert 'must be' in message


def test_min_conns_above_max_conns_says_how_to_fix_it():
    with pytest.raises(ValueError) as raised:
        parse_pool_options({'MAX_CONNS': 4, 'MIN_CONNS': 10}, WHERE)
    assert str(raised.value) == (
        "MIN_CONNS (10) is greater than MAX_CONNS (4) in DATABASES['default']['OPTIONS']; "
        'set MIN_CONNS to at most MAX_CONNS.')
