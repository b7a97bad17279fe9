"""The pool in a gevent-patched process: its threads become greenlets.

gevent's monkey patching turns the pool's locks and conditions, its
housekeeper thread and its PING_TIMEOUT watchdog thread into greenlet-aware
objects. They work when the driver waits through gevent: psycopg 3 does so
by itself, psycopg2 only with psycogreen's wait callback. Without it a
psycopg2 query blocks the whole process: greenlets take turns, and the
watchdog can never run while a round trip hangs, so PING_TIMEOUT cannot cut
a stalled one. gevent_probe.py runs the checks in a child process.
"""
from __future__ import absolute_import, division, print_function

import json
import os
import subprocess
import sys
import threading

import pytest

from tests.proxy import FaultProxy
from tests.servers.harness import ROOT, database_url, require, stop
from tests.support import database

try:
    from queue import Empty, Queue
except ImportError:  # Python 2
    from Queue import Empty, Queue

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gevent_probe.py')
STEP_TIMEOUT = 60
# How long a stalled checkin is left to hang, when it cannot be cut, before
# the probe is killed: many times PING_TIMEOUT (1 s).
HANG_S = 10


class Probe(object):
    """gevent_probe.py in a child process; its JSON lines read by a thread."""

    def __init__(self, mode, proxy):
        env = dict(os.environ, DATABASE_URL=database_url(database()),
                   DBPOOL_PROXY_PORT=str(proxy.port), PYTHONPATH=ROOT)
        self.process = subprocess.Popen(
            [sys.executable, PROBE, mode], env=env, cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines = Queue()
        self.other = []
        reader = threading.Thread(target=self._read)
        reader.daemon = True
        reader.start()

    def _read(self):
        for raw in iter(self.process.stdout.readline, b''):
            line = raw.decode('utf-8', 'replace').strip()
            if line.startswith('{'):
                self.lines.put(json.loads(line))
            else:
                self.other.append(line)
        self.lines.put(None)

    def next_step(self, timeout=STEP_TIMEOUT):
        """The next JSON line, or None if the probe ended or stayed silent ``timeout`` s."""
        try:
            return self.lines.get(timeout=timeout)
        except Empty:
            return None

    def answer(self):
        self.process.stdin.write(b'go\n')
        self.process.stdin.flush()

    def output(self):
        return '\n'.join(self.other[-40:])


@pytest.fixture
def proxy():
    proxy = FaultProxy(database()['PORT'])
    yield proxy
    proxy.close()


def run_probe(mode, proxy, hang_s=STEP_TIMEOUT):
    """The probe's steps by name; the checkin step is None if it hung ``hang_s`` s."""
    probe = Probe(mode, proxy)
    steps = {}
    try:
        for name in ('housekeeper', 'cooperation', 'dead-borrower', 'stall-now'):
            step = probe.next_step()
            assert step is not None and step['step'] == name, (step, probe.output())
            steps[name] = step
        proxy.stall()
        probe.answer()
        steps['checkin'] = probe.next_step(timeout=hang_s)
        proxy.resume()
    finally:
        stop(probe.process, timeout=5)
    print('\ngevent (%s): %s' % (mode, steps))
    return steps, probe


def test_under_gevent_the_housekeeper_and_watchdog_run_and_queries_interleave(proxy):
    require('gevent')
    try:
        import psycopg  # noqa: F401 - cooperates with gevent on its own
        mode = 'plain'
    except ImportError:
        require('psycogreen')
        mode = 'psycogreen'
    steps, probe = run_probe(mode, proxy)
    assert steps['housekeeper']['connections_open'] >= 2
    # Two greenlets' queries were on the server at the same time.
    assert steps['cooperation']['most_at_once'] == 2
    # A greenlet that ended holding a connection lost it to the pool.
    assert steps['dead-borrower']['discarded_leaked'] == 1
    assert steps['dead-borrower']['connections_in_use'] == 0
    # The watchdog greenlet cut the stalled reset; nothing is left checked out.
    assert steps['checkin'] == {'step': 'checkin', 'discarded_reset_failed': 1,
                                'connections_in_use': 0}, probe.output()
    assert 'Traceback' not in probe.output(), probe.output()


def test_under_gevent_psycopg2_without_psycogreen_blocks_the_process(proxy):
    require('gevent')
    try:
        import psycopg  # noqa: F401
        pytest.skip('Django uses psycopg 3 here, which cooperates with gevent by itself')
    except ImportError:
        pass
    require('psycopg2')
    steps, probe = run_probe('plain', proxy, hang_s=HANG_S)
    # It still works, one greenlet at a time...
    assert steps['housekeeper']['connections_open'] >= 2
    assert steps['cooperation']['most_at_once'] == 0
    # ...but a stalled round trip hangs the whole process: the watchdog
    # greenlet never gets to cut it, so PING_TIMEOUT cannot work.
    assert steps['checkin'] is None, steps
