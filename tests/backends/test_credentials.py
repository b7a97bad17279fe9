"""OPTIONS['CREDENTIALS'] under Django: passwords rotated on a real server, in every era.

The role of these tests logs in with a password only (the test cluster's
pg_hba asks every loopback connection for one; the fixture proves that a
wrong password is refused). Its password is changed with ALTER ROLE while
the pool holds connections made with the old one.
"""
from __future__ import absolute_import, division, print_function

import logging
import threading
import uuid
import warnings

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

import dbpool
from dbpool import registry
from dbpool.db import errors as django_errors
from dbpool.pycompat import monotonic
from tests.backends.conftest import request_scope_only
from tests.backends.djangocompat import close_all, connect, extra_alias
from tests.support import available_drivers, connect_kwargs, database, wait_until

try:
    from django.core import checks
    HAS_CHECKS = hasattr(checks, 'register')  # 1.6's checks module has no framework
except ImportError:
    HAS_CHECKS = False


class Vault(object):
    """A provider whose secret the test changes; counts its calls."""

    def __init__(self, password):
        self.password = password
        self.calls = []

    def __call__(self, alias, params):
        self.calls.append((alias, params))
        if self.password is None:
            raise RuntimeError('vault is sealed')
        return self.password


VAULT = Vault(None)


def vault_password(alias, params):
    """The provider the dotted-path tests name."""
    return VAULT(alias, params)


def new_password(label):
    return 'Quokka-%s-%s' % (label, uuid.uuid4().hex[:12])


def refused(user, password):
    """True when the server refuses ``user`` with ``password`` (a new connection)."""
    settings_dict = dict(database(), USER=user, PASSWORD=password)
    try:
        connection = available_drivers()[0].connect(**connect_kwargs(settings_dict))
    except Exception as exc:
        assert 'password authentication failed' in str(exc), exc
        return True
    connection.close()
    return False


@pytest.fixture
def role(admin):
    """A login role with a password; yields (user, password)."""
    user = 'dbpool_rotating_%s' % uuid.uuid4().hex[:8]
    password = new_password('first')
    admin.query("CREATE ROLE %s LOGIN PASSWORD '%s'" % (user, password))
    try:
        if not refused(user, 'Not-' + password):
            pytest.fail('the server under test lets %s in with a wrong password (pg_hba '
                        'trusts loopback?): these tests need password authentication. Run '
                        'them on the private cluster (unset DATABASE_URL).' % user,
                        pytrace=False)
        yield user, password
    finally:
        close_all()
        registry.close_pools()
        admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE usename = '%s'" % user)
        admin.query('DROP ROLE IF EXISTS %s' % user)


def role_settings(user, **options):
    """The alias settings of ``role``: no PASSWORD, the provider gives it."""
    options.setdefault('MIN_CONNS', 0)
    settings_dict = dict(connections['default'].settings_dict, OPTIONS=options)
    settings_dict.update(USER=user, PASSWORD='')
    return settings_dict


def session_of(wrapper):
    cursor = wrapper.cursor()
    try:
        cursor.execute('SELECT pg_backend_pid(), current_user')
        return tuple(cursor.fetchone())
    finally:
        cursor.close()


def in_thread(alias, work=session_of):
    """``work(connections[alias])`` in a new thread, which then gives its connection back."""
    result = []

    def run():
        try:
            result.append(work(connections[alias]))
        except Exception as exc:
            result.append(exc)
        finally:
            close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return result[0]


def pools_of(alias):
    return [pool for pool in registry.all_pools() if pool.label == alias]


def stats_of(alias):
    found = [snapshot for snapshot in dbpool.pool_stats() if snapshot['alias'] == alias]
    assert len(found) == 1, found
    return found[0]


@request_scope_only
def test_a_password_rotated_on_the_server_reaches_new_connections_and_spares_open_ones(
        role, admin, caplog):
    user, first = role
    vault = Vault(first)
    caplog.set_level(logging.INFO, logger='dbpool')
    with extra_alias('rotating', role_settings(user, MAX_CONNS=3, CREDENTIALS=vault)) as wrapper:
        old_pid, current_user = session_of(wrapper)  # opened with the first password; kept
        assert current_user == user
        pool = pools_of('rotating')
        second = new_password('second')
        admin.query("ALTER ROLE %s PASSWORD '%s'" % (user, second))
        vault.password = second
        assert refused(user, first)  # the old password opens nothing any more

        new_pid, _ = in_thread('rotating')  # a second connection, opened meanwhile
        assert new_pid != old_pid
        assert session_of(wrapper) == (old_pid, user)  # the open one is not disturbed
        assert len(vault.calls) == 2  # one call per physical connection

        wrapper.close()  # both idle now, one per password: each is lent again as it is
        assert set([session_of(wrapper)[0], in_thread('rotating')[0]]) == set([old_pid, new_pid])
        assert len(vault.calls) == 2  # a checkout of a pooled connection asks nothing
        assert pools_of('rotating') == pool  # the rotation made no new pool
        assert caplog.text.count("created pool for alias 'rotating'") == 1
        assert stats_of('rotating')['connections_created'] == 2
        assert sorted(row[0] for row in admin.query(
            'SELECT pid FROM pg_stat_activity WHERE usename = %s', [user])) == sorted(
                [old_pid, new_pid])


def test_another_provider_for_the_alias_is_another_pool_and_the_log_says_so(role, caplog):
    user, first = role
    caplog.set_level(logging.INFO, logger='dbpool')
    with extra_alias('swapped', role_settings(user, MAX_CONNS=1, CREDENTIALS=Vault(first))) \
            as wrapper:
        session_of(wrapper)
        wrapper.close()
        before = pools_of('swapped')
        replacement = Vault(first)
        wrapper.settings_dict['OPTIONS']['CREDENTIALS'] = replacement
        session_of(wrapper)
        assert len(replacement.calls) == 1  # the new provider opened this connection
        assert pools_of('swapped') != before
    assert 'settings of swapped changed (CREDENTIALS)' in caplog.text


def test_the_provider_is_called_with_the_alias_and_the_parameters_without_the_password(role):
    user, first = role
    vault = Vault(first)
    settings_dict = role_settings(user, MAX_CONNS=1, CREDENTIALS=vault)
    settings_dict['PASSWORD'] = 'Quokka-static-never-shown'  # the provider's answer wins
    with extra_alias('shown', settings_dict) as wrapper:
        assert session_of(wrapper)[1] == user
        alias, params = vault.calls[0]
    assert alias == 'shown'
    assert params['user'] == user
    assert (params['host'], str(params['port'])) == (database()['HOST'], database()['PORT'])
    assert params.get('dbname', params.get('database')) == database()['NAME']
    assert 'password' not in params
    assert 'CREDENTIALS' not in params and 'MAX_CONNS' not in params


def test_a_provider_that_raises_fails_the_checkout_cleanly_and_the_pool_serves_once_it_works(
        role):
    user, first = role
    vault = Vault(None)
    settings_dict = role_settings(user, MAX_CONNS=1, POOL_TIMEOUT=5, CREDENTIALS=vault)
    with extra_alias('sealed', settings_dict) as wrapper:
        for attempt in range(2):
            started = monotonic()
            with pytest.raises(django_errors.OperationalError) as raised:
                connect(wrapper)
            # The slot is given back: the next checkout tries again at once
            # rather than wait POOL_TIMEOUT for a connection that never came.
            assert monotonic() - started < 2.5
        assert isinstance(raised.value, django_errors.CredentialsError)
        message = str(raised.value)
        assert "DATABASES['sealed']['OPTIONS']['CREDENTIALS']" in message
        assert 'raised RuntimeError: vault is sealed' in message
        assert isinstance(raised.value.__cause__, RuntimeError)
        snapshot = stats_of('sealed')
        assert snapshot['connect_failures'] == 2
        assert (snapshot['connections_open'], snapshot['connections_opening']) == (0, 0)

        vault.password = first
        assert session_of(wrapper)[1] == user
        assert stats_of('sealed')['connections_created'] == 1


def test_a_checkout_waiting_while_the_provider_fails_gets_the_slot_and_opens_its_own(role):
    user, first = role
    asked, answer = threading.Event(), threading.Event()
    calls = []

    def provider(alias, params):
        calls.append(alias)
        if len(calls) == 1:
            asked.set()
            answer.wait(10)
            raise RuntimeError('lease expired')
        return first

    settings_dict = role_settings(user, MAX_CONNS=1, POOL_TIMEOUT=5, CREDENTIALS=provider)
    with extra_alias('handoff', settings_dict):
        results = {}

        def checkout(name):
            started = monotonic()
            try:
                results[name] = in_thread('handoff')
            finally:
                results[name + '_s'] = monotonic() - started

        opener = threading.Thread(target=checkout, args=('opener',))
        opener.start()
        assert asked.wait(10)  # the one slot is being opened
        waiter = threading.Thread(target=checkout, args=('waiter',))
        waiter.start()
        assert wait_until(lambda: stats_of('handoff')['waiting'] == 1)
        answer.set()
        opener.join(10)
        waiter.join(10)
    assert isinstance(results['opener'], django_errors.CredentialsError)
    assert results['waiter'][1] == user
    assert results['waiter_s'] < 4  # handed the slot, not left to POOL_TIMEOUT


def test_a_provider_returning_a_wrong_type_is_told_what_to_return_without_showing_it(role):
    user, first = role
    settings_dict = role_settings(user, MAX_CONNS=1,
                                  CREDENTIALS=lambda alias, params: [first])
    with extra_alias('wrongtype', settings_dict) as wrapper:
        with pytest.raises(django_errors.CredentialsError) as raised:
            connect(wrapper)
    message = str(raised.value)
    assert 'returned a list; it must return the password as a string, or a dict' in message
    assert first not in message and 'Quokka' not in message


def test_a_provider_may_return_a_dict_of_connection_parameters(role):
    user, first = role
    settings_dict = role_settings('nobody_at_all', MAX_CONNS=1, CREDENTIALS=lambda alias, params: {
        'user': user, 'password': first, 'application_name': 'dbpool-from-vault'})
    with extra_alias('fromdict', settings_dict) as wrapper:
        assert session_of(wrapper)[1] == user
        cursor = wrapper.cursor()
        cursor.execute("SELECT current_setting('application_name')")
        assert cursor.fetchone()[0] == 'dbpool-from-vault'
        cursor.close()


def test_a_dotted_path_names_the_provider(role):
    user, first = role
    VAULT.password = first
    settings_dict = role_settings(user, MAX_CONNS=1,
                                  CREDENTIALS='tests.backends.test_credentials.vault_password')
    try:
        with extra_alias('dotted', settings_dict) as wrapper:
            assert session_of(wrapper)[1] == user
    finally:
        VAULT.password = None


def test_a_dotted_path_that_does_not_import_is_improperly_configured_naming_the_key():
    settings_dict = dict(connections['default'].settings_dict,
                         OPTIONS={'MIN_CONNS': 0, 'CREDENTIALS': 'tests.nowhere.password'})
    with extra_alias('nowhere', settings_dict) as wrapper:
        with pytest.raises(ImproperlyConfigured) as raised:
            connect(wrapper)
    assert "CREDENTIALS='tests.nowhere.password' in DATABASES['nowhere']['OPTIONS'] cannot " \
           "be imported" in str(raised.value)


@pytest.mark.skipif(not HAS_CHECKS, reason='Django 1.3-1.6 have no system checks framework '
                                           '(there: ImproperlyConfigured at the first connection)')
def test_a_dotted_path_that_does_not_import_is_dbpool_e006_in_manage_py_check():
    from django.conf import settings
    settings.DATABASES['nowhere'] = dict(
        settings.DATABASES['default'], OPTIONS={'CREDENTIALS': 'tests.nowhere.password'})
    try:
        found = [message for message in checks.run_checks() if message.id == 'dbpool.E006']
    finally:
        del settings.DATABASES['nowhere']
    assert len(found) == 1
    assert "CREDENTIALS='tests.nowhere.password'" in found[0].msg


def nodb_database_and_user(wrapper):
    """current_database() and current_user over Django's maintenance connection (1.7+)."""
    nodb_cursor = getattr(wrapper, '_nodb_cursor', None)  # 3.1+
    if nodb_cursor is not None:
        with nodb_cursor() as cursor:
            cursor.execute('SELECT current_database(), current_user')
            return tuple(cursor.fetchone())
    holder = wrapper if hasattr(type(wrapper), '_nodb_connection') else wrapper.creation
    nodb = holder._nodb_connection  # 1.8-3.0 on the wrapper, 1.7 on creation
    try:
        cursor = nodb.cursor()
        cursor.execute('SELECT current_database(), current_user')
        return tuple(cursor.fetchone())
    finally:
        nodb.close()


def test_the_maintenance_connection_that_creates_test_databases_gets_the_password_too(role):
    wrapper = connections['default']
    if not (hasattr(wrapper, '_nodb_cursor') or hasattr(type(wrapper), '_nodb_connection')
            or hasattr(wrapper.creation, '_nodb_connection')):
        pytest.skip('Django 1.3-1.6 create test databases over the alias\' own connection '
                    '(the pooled one, tested above)')
    user, first = role
    with extra_alias('nodb', role_settings(user, MAX_CONNS=1, CREDENTIALS=Vault(first))) as w:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            # 3.1+ fall back to the alias' own database, with a warning, when
            # the 'postgres' database refuses the maintenance connection.
            assert nodb_database_and_user(w) == ('postgres', user)
        assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []


def test_dbpool_status_reads_the_server_with_the_providers_password_and_shows_no_provider(role):
    import io
    import json
    from django.core.management import call_command
    user, first = role
    vault = Vault(first)
    with extra_alias('status', role_settings(user, MAX_CONNS=1, CREDENTIALS=vault)):
        out = io.StringIO() if str is not bytes else io.BytesIO()
        call_command('dbpool_status', stdout=out, json=True, aliases=['status'])
    report = json.loads(out.getvalue())['aliases'][0]
    assert report['server']['user'] == user  # a direct connection, opened with the provider
    assert len(vault.calls) == 1
    assert 'CREDENTIALS' not in report['options'] and 'Vault' not in out.getvalue()
