"""Through the ENGINE, on databases that are not UTF8: text is stored as sent, after every reset.

Django 1.3-4.1 set client_encoding to UTF8 on every connect through
psycopg2, which skips the call when it believes the session is UTF8
already; Django 4.2+ ask for UTF8 when they connect, which RESET ALL
keeps. Either way the pool's reset must leave the driver and the server
agreeing, with RESET_ON_RETURN 'full' and with 'auto' after a change.
"""
from __future__ import absolute_import, division, print_function

import pytest
from django.db import connections

from tests.backends.conftest import request_scope_only
from tests.backends.djangocompat import extra_alias
from tests.non_utf8 import CAFE, believed_encoding, non_utf8_database, text

# SQL_ASCII counts bytes: CAFE in UTF-8 is 5 long there, however it was sent.
LENGTH = {'LATIN1': 4, 'SQL_ASCII': 5}


def request(wrapper, policy):
    """One request: what the server makes of CAFE, then (for 'auto') a change to reset."""
    cursor = wrapper.cursor()
    try:
        cursor.execute('SELECT length(%s::text), %s::text, current_setting(%s)',
                       [CAFE, CAFE, 'client_encoding'])
        length, echoed, server_encoding = cursor.fetchone()
        believed = believed_encoding(wrapper.connection)
        if policy == 'auto':
            cursor.execute('SET statement_timeout = 1000')
    finally:
        cursor.close()
    wrapper.close()
    return believed, text(server_encoding), length, text(echoed)


@request_scope_only
@pytest.mark.parametrize('encoding', ['LATIN1', 'SQL_ASCII'])
@pytest.mark.parametrize('policy', ['full', 'auto'])
def test_every_request_on_a_reused_connection_sends_text_in_the_encoding_the_server_expects(
        encoding, policy):
    with non_utf8_database(encoding) as database:
        settings_dict = dict(connections['default'].settings_dict, NAME=database['NAME'],
                             OPTIONS={'MAX_CONNS': 1, 'RESET_ON_RETURN': policy})
        with extra_alias('non_utf8', settings_dict) as wrapper:
            seen = [request(wrapper, policy) for _ in range(4)]
            pool = wrapper._dbpool_last_pool[2]
            assert pool.stats()['connections_created'] == 1
            assert pool.stats()['resets'] >= 3
    assert seen == [('UTF8', 'UTF8', LENGTH[encoding], CAFE)] * 4
