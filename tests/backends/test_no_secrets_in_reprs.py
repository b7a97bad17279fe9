"""No password in the repr of anything the pool owns: wrapper state, pools, registry, entries.

Django's own ``settings_dict`` on the wrapper holds the password as the user
wrote it; everything dbpool keeps (the lookup cache, the connector's
settings and parameters, the registry's keys) must show it masked, or as a
digest, however deep a repr-walking tool (a debugger, an error reporter)
looks: attributes, slots, and the dicts, tuples and lists inside them.
"""
from __future__ import absolute_import, division, print_function

import logging
import uuid

import pytest
from django.db import connections

import dbpool
from dbpool import registry, secrets
from tests.backends.djangocompat import connect, extra_alias

DEPTH = 4


def full_settings(**options):
    options.setdefault('MIN_CONNS', 0)
    return dict(connections['default'].settings_dict, OPTIONS=options)


def libpq_version(driver):
    if driver.__name__.split('.')[0] == 'psycopg2':
        return driver.extensions.libpq_version()
    return driver.pq.version()


def _members(value):
    """What a repr-walking tool would look at inside ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield item
    elif isinstance(value, (tuple, list, set, frozenset)):
        for item in value:
            yield item
    else:
        for name in getattr(type(value), '__slots__', ()):
            if hasattr(value, name):
                yield getattr(value, name)
        for item in getattr(value, '__dict__', {}).values():
            yield item


def _walks_into(value):
    # Containers, and what dbpool defines; another library's object (the
    # driver's connection, Django's helpers) is judged by its own repr.
    if isinstance(value, (dict, tuple, list, set, frozenset)):
        return True
    return type(value).__module__.split('.')[0] == 'dbpool'


def leaks(root, secret, skip=()):
    """Paths under ``root`` whose repr() or str() shows ``secret``."""
    found = []
    seen = set([id(root)])  # the root's skipped attributes stay skipped

    def visit(value, path, depth):
        if id(value) in seen:
            return
        seen.add(id(value))
        for text in (repr(value), str(value)):
            if secret in text:
                found.append(path)
                break
        if depth < DEPTH and _walks_into(value):
            for index, member in enumerate(_members(value)):
                visit(member, '%s/%d:%s' % (path, index, type(member).__name__), depth + 1)

    for name, value in sorted(vars(root).items()):
        if name not in skip:
            visit(value, name, 1)
    return found


@pytest.fixture
def secret_role(admin):
    """A login role with a distinctive password; yields (user, password)."""
    user = 'dbpool_reprs_%s' % uuid.uuid4().hex[:8]
    password = 'Quokka-%s-Pw' % uuid.uuid4().hex[:10]
    admin.query("CREATE ROLE %s LOGIN PASSWORD '%s'" % (user, password))
    yield user, password
    registry.close_pools()
    admin.query('DROP ROLE IF EXISTS %s' % user)


def test_no_attribute_of_the_wrapper_pool_registry_or_entries_shows_the_password(
        secret_role, caplog):
    user, password = secret_role
    caplog.set_level(logging.DEBUG, logger='dbpool')
    settings_dict = full_settings(MAX_CONNS=2, application_name='dbpool-reprs')
    settings_dict.update(USER=user, PASSWORD=password)
    secret_values = [password]
    if libpq_version(connections['default']._dbpool_driver()) >= 130000:
        # libpq 13 knows sslpassword (used only for an encrypted client key).
        sslpassword = 'Wombat-%s-Ssl' % uuid.uuid4().hex[:10]
        settings_dict['OPTIONS']['sslpassword'] = sslpassword
        secret_values.append(sslpassword)
    found = []
    with extra_alias('reprs', settings_dict) as wrapper:
        connect(wrapper)
        wrapper.close()
        connect(wrapper)  # the second checkout, with the lookup cache; kept checked out
        pool = wrapper._dbpool_pool
        assert wrapper._dbpool_last_pool is not None
        entries = pool._idle[:] + [wrapper._dbpool_entry]
        for secret in secret_values:
            # Django's own settings_dict holds the password as the user wrote it.
            found += ['wrapper.' + path for path in leaks(wrapper, secret, skip=('settings_dict',))]
            found += ['pool.' + path for path in leaks(pool, secret)]
            found += ['connector.' + path for path in leaks(pool._connect, secret)]
            found += ['registry.' + path for path in leaks(registry, secret)]
            for entry in entries:
                found += leaks_of_object(entry, secret)
            texts = [repr(dbpool.pool_stats())]
            texts += [record.getMessage() for record in caplog.records]
            found += ['message %r' % text for text in texts if secret in text]
        wrapper.close()
    assert found == []


def leaks_of_object(obj, secret):
    holder = type(str('Holder'), (object,), {})()
    holder.entry = obj
    return leaks(holder, secret)


def test_the_lookup_cache_still_notices_a_changed_password(secret_role):
    user, password = secret_role
    settings_dict = full_settings(MAX_CONNS=1)
    settings_dict.update(USER=user, PASSWORD=password)
    with extra_alias('reprs', settings_dict) as wrapper:
        connect(wrapper)
        wrapper.close()
        wrapper.settings_dict['PASSWORD'] = 'Not-' + password
        with pytest.raises(Exception) as refused:  # Django 1.3-1.5 raise the driver's error
            connect(wrapper)
        assert 'password authentication failed' in str(refused.value)
        wrapper.settings_dict['PASSWORD'] = password
        connect(wrapper)
        wrapper.close()


@pytest.mark.parametrize('conninfo,shown', [
    ("host=db password=Quokka-1 user=app", "host=db password=******** user=app"),
    ("host=db password = 'Quokka 2' sslpassword=Quokka-3",
     "host=db password = ******** sslpassword=********"),
    ("postgresql://app:Quokka-4@db:5432/app?sslpassword=Quokka-5&sslmode=require",
     "postgresql://app:********@db:5432/app?sslpassword=********&sslmode=require"),
])
def test_a_password_inside_a_conninfo_string_is_masked_where_the_pool_keeps_it(conninfo, shown):
    kept = secrets.hide_dict({'dsn': conninfo, 'password': 'Quokka-6'})
    assert kept == {'dsn': conninfo, 'password': 'Quokka-6'}  # compares as the plain values
    assert repr(kept) == repr({'dsn': shown, 'password': '********'})
    assert secrets.reveal_dict(kept) == {'dsn': conninfo, 'password': 'Quokka-6'}
    assert type(secrets.reveal_dict(kept)['dsn']) is type(conninfo)
    key = secrets.key_value('dsn', conninfo)
    assert 'Quokka' not in repr(key) and key == secrets.key_value('dsn', conninfo)
    assert secrets.key_value('password', 'Quokka-6') != secrets.key_value('password', 'Quokka-7')


def test_no_attribute_message_or_statistic_shows_a_password_the_provider_gave(
        secret_role, caplog):
    # OPTIONS['CREDENTIALS'] gives the password per connection: it may end
    # up nowhere the pool keeps, not even hidden (it is never stored).
    user, password = secret_role
    caplog.set_level(logging.DEBUG, logger='dbpool')
    settings_dict = full_settings(MAX_CONNS=2, application_name='dbpool-reprs',
                                  CREDENTIALS=lambda alias, params: {'password': password})
    settings_dict.update(USER=user, PASSWORD='')
    found = []
    with extra_alias('reprs', settings_dict) as wrapper:
        connect(wrapper)
        wrapper.close()
        connect(wrapper)
        pool = wrapper._dbpool_pool
        entries = pool._idle[:] + [wrapper._dbpool_entry]
        found += ['wrapper.' + path for path in leaks(wrapper, password, skip=('settings_dict',))]
        found += ['pool.' + path for path in leaks(pool, password)]
        found += ['connector.' + path for path in leaks(pool._connect, password)]
        found += ['registry.' + path for path in leaks(registry, password)]
        for entry in entries:
            found += leaks_of_object(entry, password)
        texts = [repr(dbpool.pool_stats()), repr(pool.options)]
        texts += [record.getMessage() for record in caplog.records]
        found += ['message %r' % text for text in texts if password in text]
        wrapper.close()
    assert found == []
