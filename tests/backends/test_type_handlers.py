"""Type handlers the session's set-up registers later survive the connection's return.

Django's contrib.postgres registers hstore's adapters from connection_created,
and again on the connection a migration just created the extension on
(CreateExtension calls register_type_handlers on it). A checkin puts back
the driver connection's adapters as they were after the set-up, which
takes that late registration away; the pool then runs the set-up again at
the next checkout (connection_created included), which now registers it.
The receiver below does what register_type_handlers does: it registers a
text loader (psycopg 3) or a typecaster (psycopg2) on the connection only
once the "extension" exists.
"""
from __future__ import absolute_import, division, print_function

import pytest
from django.db import connections
from django.db.backends.signals import connection_created

from dbpool import stats
from tests.backends.djangocompat import connect, extra_alias

EXTENSION = {'exists': False}
CALLS = []


def register_shouting_text(connection):
    """Make ``text`` values come back in capitals on this driver connection."""
    raw = connection.connection
    if hasattr(raw, 'adapters'):  # psycopg 3
        from psycopg.adapt import Loader

        class ShoutingLoader(Loader):
            def load(self, data):
                return bytes(data).decode('utf-8').upper()

        raw.adapters.register_loader('text', ShoutingLoader)
    else:
        import psycopg2.extensions
        shouting = psycopg2.extensions.new_type(
            (25,), 'SHOUTING', lambda value, cursor: None if value is None else value.upper())
        psycopg2.extensions.register_type(shouting, raw)


def set_up(sender, connection, **kwargs):
    if connection.alias == 'typed':
        CALLS.append(1)
        if EXTENSION['exists']:
            register_shouting_text(connection)


@pytest.fixture
def receiver():
    EXTENSION['exists'] = False
    del CALLS[:]
    connection_created.connect(set_up)
    yield
    connection_created.disconnect(set_up)


def text_of(wrapper):
    cursor = wrapper.cursor()
    cursor.execute("SELECT 'quiet'::text")
    value = cursor.fetchone()[0]
    cursor.close()
    return value


def test_adapters_registered_after_the_set_up_survive_through_the_set_up_running_again(receiver):
    settings_dict = dict(connections['default'].settings_dict, OPTIONS={'MAX_CONNS': 1})
    with extra_alias('typed', settings_dict) as wrapper:
        assert text_of(wrapper) == 'quiet'  # no extension yet: nothing registered
        wrapper.close()
        assert CALLS == [1]
        # A migration creates the extension and registers on its connection.
        connect(wrapper)
        EXTENSION['exists'] = True
        register_shouting_text(wrapper)
        assert text_of(wrapper) == 'QUIET'
        wrapper.close()  # the checkin takes the late registration away...
        # ...and the next checkout runs the set-up again, which registers it.
        assert text_of(wrapper) == 'QUIET'
        wrapper.close()
        assert CALLS == [1, 1]
        # Once set up again, later requests reuse it without another run.
        assert text_of(wrapper) == 'QUIET'
        wrapper.close()
        assert CALLS == [1, 1]
        pool = wrapper._dbpool_last_pool[2]
        assert pool.stats()[stats.CONNECTIONS_CREATED] == 1
