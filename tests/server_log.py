"""A private PostgreSQL cluster that logs how each session ended, and its log read back.

With ``log_min_messages = debug1`` the server logs "unexpected EOF on
client connection" for a client that went away without the protocol's
goodbye (the Terminate message), even outside a transaction; a socket
reset is logged at any level. ``log_disconnections`` logs every session's
end, and the line prefix names each session's application_name, so a test
finds its own sessions' lines.
"""
from __future__ import absolute_import, division, print_function

import io
import re
import time

import pytest

from dbpool.testing.pgcluster import PgCluster, find_pg_bin

# What a session that ended without a goodbye leaves in the server log.
NO_GOODBYE = ('unexpected EOF', 'could not receive data from client', 'Connection reset',
              'could not send data to client')
LOG_CONF = {
    'log_min_messages': 'debug1',
    'log_disconnections': True,
    'log_line_prefix': '%m [%p] app=%a ',
}


def start_logging_cluster():
    """A started PgCluster with LOG_CONF; skips (saying why) without PostgreSQL's programs."""
    try:
        find_pg_bin('initdb')
    except RuntimeError as exc:
        pytest.skip('no PostgreSQL programs to start a cluster whose log the test reads: %s'
                    % exc)
    return PgCluster(extra_conf=LOG_CONF).start()


def session_lines(cluster, application_name):
    """The log lines of the sessions with ``application_name``."""
    marker = 'app=%s ' % application_name
    with io.open(cluster.log_file, encoding='utf-8', errors='replace') as handle:
        return [line.rstrip('\n') for line in handle if marker in line]


def disconnections(cluster, application_name):
    """How many sessions with ``application_name`` the server saw end."""
    return sum(1 for line in session_lines(cluster, application_name)
               if 'disconnection: session time' in line)


def goodbye_problems(cluster, application_name):
    """The lines saying a session with ``application_name`` ended without a goodbye."""
    return [line for line in session_lines(cluster, application_name)
            if any(sign in line for sign in NO_GOODBYE)]


def wait_for_disconnections(cluster, application_name, count, timeout=10.0):
    """Wait (boundedly) until ``count`` sessions ended; how many did."""
    deadline = time.time() + timeout
    seen = disconnections(cluster, application_name)
    while seen < count and time.time() < deadline:
        time.sleep(0.05)
        seen = disconnections(cluster, application_name)
    return seen


def backend_pids_in_log(cluster, application_name):
    """Server pids of the sessions with ``application_name`` that left a line."""
    pids = set()
    for line in session_lines(cluster, application_name):
        found = re.search(r'\[(\d+)\]', line)
        if found:
            pids.add(int(found.group(1)))
    return pids
