"""Measure the first requests' latency after a gunicorn worker starts, warm and cold.

    python tests/servers/measure_warm_start.py [runs]

Starts gunicorn (one gthread worker, 4 threads) on the demo project
(tests/servers/lifecycle_app.py) on a private cluster, ``runs`` times in
each mode: "warm" with dbpool.db.gunicorn_hooks' post_worker_init (MIN_CONNS
open before the worker serves), "cold" without. Each time it waits until
the worker answers on its port and its sessions have settled, then sends
4 concurrent GET /items/ and times them. Prints the medians (the figures
in docs/lifecycle.md). Not a test: no timing is asserted anywhere.
"""
from __future__ import absolute_import, division, print_function

import os
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from dbpool.testing.pgcluster import PgCluster, free_port  # noqa: E402
from tests.servers import test_graceful_stop as served  # noqa: E402
from tests.servers.harness import (  # noqa: E402
    Background, count_sessions, fetch, gunicorn_command, migrate, wait_for_port)
from tests.support import Admin, wait_until  # noqa: E402

WARM_CONF = "from dbpool.db.gunicorn_hooks import post_worker_init  # noqa: F401\n"
COLD_CONF = "# no dbpool hooks\n"
CONCURRENT = 4


def median(values):
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2.0


def first_requests(base_url):
    """Latencies (ms) of CONCURRENT simultaneous first requests."""
    latencies = []
    start = threading.Event()

    def one():
        start.wait()
        began = time.time()
        status, _ = fetch(base_url + '/items/')
        assert status == 200, status
        latencies.append((time.time() - began) * 1000.0)

    threads = [threading.Thread(target=one) for _ in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join(60)
    return sorted(latencies)


def run(mode, conf_text, settings_dict, admin, folder):
    conf = os.path.join(folder, '%s.conf.py' % mode)
    with open(conf, 'w') as out:
        out.write(conf_text)
    port = free_port()
    env = served.environment(settings_dict)
    env['DBPOOL_MIN_CONNS'] = env['DBPOOL_MAX_CONNS'] = str(CONCURRENT)
    command = gunicorn_command(sys.executable, '-c', conf, '-k', 'gthread', '-w', '1',
                               '--threads', str(CONCURRENT), '-b', '127.0.0.1:%d' % port,
                               served.APP + ':application')
    server = Background(command, env)
    try:
        assert wait_for_port(port, server.process, 60), server.output()[-2000:]
        expected = CONCURRENT if mode == 'warm' else 0
        wait_until(lambda: count_sessions(admin, settings_dict['NAME']) == expected, 15)
        time.sleep(0.3)
        return first_requests('http://127.0.0.1:%d' % port)
    finally:
        server.stop()
        wait_until(lambda: count_sessions(admin, settings_dict['NAME']) == 0, 15)


def main(runs):
    folder = tempfile.mkdtemp(prefix='dbpool-warm-')
    cluster = PgCluster().start()
    try:
        admin = Admin(cluster.settings())
        admin.query('CREATE DATABASE warmstart')
        settings_dict = dict(cluster.settings(), NAME='warmstart')
        migrate(sys.executable, served.environment(settings_dict))
        figures = {}
        for index in range(runs):
            for mode, conf_text in (('cold', COLD_CONF), ('warm', WARM_CONF)):
                latencies = run(mode, conf_text, settings_dict, admin, folder)
                figures.setdefault(mode, []).append(latencies)
        for mode in ('cold', 'warm'):
            fastest = median([latencies[0] for latencies in figures[mode]])
            slowest = median([latencies[-1] for latencies in figures[mode]])
            print('%s: %d concurrent first requests after worker start, median over %d runs: '
                  'fastest %.1f ms, slowest %.1f ms' % (mode, CONCURRENT, runs, fastest,
                                                        slowest))
        admin.close()
    finally:
        cluster.destroy()


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
