"""OPTIONS['CREDENTIALS'] in the core: what a provider is shown, what it may return, its errors.

The provider's answers are distinctive strings (Quokka-...): no message may
show them, whatever shape the answer had.
"""
from __future__ import absolute_import, division, print_function

import pytest

from dbpool import secrets
from dbpool.credentials import apply_credentials, describe, public_params
from dbpool.errors import CredentialsError, PoolError
from dbpool.options import parse_pool_options

WHERE = "DATABASES['default']['OPTIONS']"
PARAMS = {'dbname': 'app', 'user': 'app', 'host': 'db.example', 'port': 5432,
          'password': 'Quokka-static', 'sslmode': 'require', 'connect_timeout': 10}


def returning(value):
    def provider(alias, params):
        return value
    return provider


def test_a_provider_returning_text_gives_the_password_of_that_connection():
    params = apply_credentials(returning('Quokka-token'), 'default', PARAMS, WHERE)
    assert params == dict(PARAMS, password='Quokka-token')
    assert PARAMS['password'] == 'Quokka-static'  # the caller's dict is not changed


def test_a_provider_returning_a_dict_lays_its_parameters_over_the_others():
    given = {'password': 'Quokka-token', 'user': 'app_rotated', 'sslrootcert': '/etc/ca.pem'}
    params = apply_credentials(returning(given), 'default', PARAMS, WHERE)
    assert params == dict(PARAMS, **given)


def test_the_provider_is_shown_the_alias_and_the_parameters_without_their_secrets():
    seen = []

    def provider(alias, params):
        seen.append((alias, params))
        return 'Quokka-token'

    params = dict(PARAMS, sslpassword='Quokka-ssl', options='-c search_path=app',
                  cursor_factory=object(), dsn='host=db password=Quokka-dsn')
    apply_credentials(provider, 'replica', params, WHERE)
    alias, shown = seen[0]
    assert alias == 'replica'
    assert shown == {'dbname': 'app', 'user': 'app', 'host': 'db.example', 'port': 5432,
                     'sslmode': 'require', 'connect_timeout': 10,
                     'options': '-c search_path=app', 'dsn': 'host=db password=' + secrets.MASK}


def test_a_provider_that_raises_gives_an_error_naming_the_setting_and_the_exception():
    def provider(alias, params):
        raise KeyError('VAULT_TOKEN')

    with pytest.raises(CredentialsError) as raised:
        apply_credentials(provider, 'default', PARAMS, WHERE)
    message = str(raised.value)
    assert "DATABASES['default']['OPTIONS']['CREDENTIALS']" in message
    assert 'test_credentials' in message and 'provider' in message  # which callable
    assert "raised KeyError: 'VAULT_TOKEN'" in message
    assert isinstance(raised.value, PoolError)
    assert isinstance(raised.value.__cause__, KeyError)


def test_a_conninfo_password_in_the_providers_exception_is_masked():
    def provider(alias, params):
        raise ValueError('cannot use host=db password=Quokka-leak')

    with pytest.raises(CredentialsError) as raised:
        apply_credentials(provider, 'default', PARAMS, WHERE)
    assert 'Quokka-leak' not in str(raised.value)
    assert 'password=' + secrets.MASK in str(raised.value)


@pytest.mark.parametrize('answer,says', [
    (None, 'returned a NoneType'),
    (['Quokka-in-a-list'], 'returned a list'),
    (b'Quokka-bytes' if bytes is not str else 12345, 'returned a '),
    ({'PASSWORD': 'Quokka-upper'}, "the key 'PASSWORD': parameter names are libpq's, "
                                   "in lower case"),
    ({'password': ['Quokka-nested']}, "a dict whose 'password' is a list"),
    ({'password': None}, "a dict whose 'password' is a NoneType"),
    ({7: 'Quokka-key'}, 'a dict with a key that is a int'),
])
def test_a_provider_returning_a_wrong_type_is_told_what_to_return_and_never_shown(answer, says):
    with pytest.raises(CredentialsError) as raised:
        apply_credentials(returning(answer), 'default', PARAMS, WHERE)
    message = str(raised.value)
    assert says in message
    assert 'it must return the password as a string, or a dict of libpq connection ' \
           'parameters' in message
    assert 'Quokka' not in message and '12345' not in message


def test_a_provider_is_named_by_its_path_never_by_its_repr():
    class Vault(object):
        def __call__(self, alias, params):
            return 'x'

        def __repr__(self):
            return '<Vault token=Quokka-repr>'

    assert describe(Vault()).endswith('Vault')
    assert 'Quokka' not in describe(Vault())
    assert describe('myproject.db.password') == 'myproject.db.password'
    assert describe(returning('x')).endswith('returning.<locals>.provider') \
        or describe(returning('x')).endswith('.provider')  # 2.7 has no __qualname__


def test_public_params_leave_out_driver_objects_and_booleans():
    assert public_params({'host': 'db', 'context': object(), 'autocommit': True,
                          'PASSWORD': 'Quokka'}) == {'host': 'db'}


def test_the_option_takes_a_callable_or_a_dotted_path_and_refuses_anything_else():
    assert parse_pool_options({}, WHERE).credentials is None
    assert parse_pool_options({'CREDENTIALS': 'myproject.db.password'},
                              WHERE).credentials == 'myproject.db.password'
    provider = returning('x')
    assert parse_pool_options({'CREDENTIALS': provider}, WHERE).credentials is provider
    with pytest.raises(ValueError) as raised:
        parse_pool_options({'CREDENTIALS': 'Quokka'}, WHERE)
    assert ("CREDENTIALS must be a callable taking (alias, params) that returns the password "
            "or a dict of connection parameters or its dotted path") in str(raised.value)


def test_the_credentials_modules_import_no_django():
    import subprocess
    import sys
    code = ('import sys, dbpool.credentials, dbpool.rds_iam; '
            'print(sorted(m for m in sys.modules if m.split(".")[0] == "django"))')
    output = subprocess.check_output([sys.executable, '-c', code]).decode('ascii')
    assert output.strip() == '[]'
