"""Helpers for the tests of the downstream kit (the CLI, the pytest plugin, the recipes)."""
from __future__ import absolute_import, division, print_function

import errno
import os
import socket
import subprocess
import sys

import pytest

# A child script that proves it reached a real server: it connects to
# DATABASE_URL with whichever driver is installed and prints the server's
# data directory and port, then exits with the status given as argv[1].
PROBE = r'''
import os, sys
from dbpool.testing.pgcluster import parse_database_url
db = parse_database_url(os.environ['DATABASE_URL'])
try:
    import psycopg2 as driver
except ImportError:
    import psycopg as driver
conn = driver.connect(dbname=db['NAME'], user=db['USER'], password=db['PASSWORD'],
                      host=db['HOST'], port=db['PORT'])
cur = conn.cursor()
cur.execute('SHOW data_directory')
print('DATA_DIR=%s' % cur.fetchone()[0])
print('PORT=%s' % db['PORT'])
print('PGHOST=%s' % os.environ.get('PGHOST'))
conn.close()
sys.stdout.flush()
sys.exit(int(sys.argv[1]))
'''


def run(args, env=None, **kwargs):
    """Run ``args``; return (exit status, stdout, stderr) as text."""
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, **kwargs)
    out, err = process.communicate()
    return process.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')


def probe_values(output):
    """The KEY=value lines a PROBE printed, as a dict."""
    return dict(line.split('=', 1) for line in output.splitlines()
                if line.split('=', 1)[0] in ('DATA_DIR', 'PORT', 'PGHOST'))


def environment_without_database_url(**extra):
    """os.environ minus DATABASE_URL (and PG* that could point elsewhere), plus ``extra``."""
    env = dict(os.environ)
    for name in ('DATABASE_URL', 'PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'):
        env.pop(name, None)
    env.update(extra)
    return env


def port_accepts_connections(port):
    """Whether something listens on 127.0.0.1:port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(5)
    try:
        sock.connect(('127.0.0.1', int(port)))
        return True
    except socket.error as exc:
        if exc.errno == errno.ECONNREFUSED:
            return False
        raise
    finally:
        sock.close()


def assert_cluster_gone(values):
    """The cluster whose data dir and port a PROBE printed is stopped and removed."""
    data_dir = values['DATA_DIR']
    assert os.path.basename(os.path.dirname(data_dir)).startswith('dbpool-pg-')
    assert not os.path.exists(os.path.dirname(data_dir))
    assert not port_accepts_connections(values['PORT'])


PYTHON = sys.executable

def dbpool_is_installed():
    """Whether dbpool is installed with its console script and entry points.

    tox installs it in every cell; outside tox it usually runs from a
    checkout on PYTHONPATH, where neither exists.
    """
    return bool(os.environ.get('TOX_ENV_NAME'))


# The command and the plugin use no Django: what varies is Python and
# pytest (4.6 on 2.7). Starting a dozen clusters in every one of the 30
# cells would add minutes to the matrix, so tox.ini sets DBPOOL_TEST_KIT in
# three cells; outside tox they always run.
KIT_CELLS = 'py27-dj16-south, py37-dj111, py313-dj61-psycopg3'
needs_kit_cell = pytest.mark.skipif(
    bool(os.environ.get('TOX_ENV_NAME')) and not os.environ.get('DBPOOL_TEST_KIT'),
    reason='the pgcluster command and pytest plugin tests run in the tox cells %s '
    '(DBPOOL_TEST_KIT)' % KIT_CELLS)
