"""Compare dbpool with stock Django and the other Django pools, in one run.

    bash benchmarks/run.sh [--quick | --full] [--modes a,b] [--out FILE.json]

(run.sh makes the venvs and calls this file with their Python.) Every mode
runs in its own worker process (benchmarks/worker.py) per round; rounds
interleave the modes, each round in a rotated order, so every ratio comes
from the same noisy machine at nearly the same time. Meanwhile this process
samples pg_stat_activity for each scenario's peak server connections.

Prints the table and the verdict on each target; writes the JSON results and
the chart. Uses DATABASE_URL when set, else a throwaway PostgreSQL with
scram-sha-256 password authentication (dbpool.testing.pgcluster).
"""
from __future__ import absolute_import, division, print_function

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT]

from dbpool.options import OPTION_NAMES  # noqa: E402
from dbpool.testing.pgcluster import PgCluster  # noqa: E402
from modes import APP_PREFIX, BY_NAME, MODES, SCENARIOS  # noqa: E402
import report  # noqa: E402

PRESETS = {
    # rounds, warm-up s, measured s per scenario, micro s: about 8 min
    # (quick) and 50 min (full) for the 21 modes on a quiet 2-core machine
    # (estimates), of which 4 min (quick) or 10 min (full) wait for the 30 s checkout
    # timeout of the two pools that starve threads (32t/8c and the slow view).
    'quick': dict(rounds=2, warmup=0.4, seconds=1.0, micro_seconds=0.4),
    'full': dict(rounds=5, warmup=1.0, seconds=4.0, micro_seconds=2.0),
}
SAMPLE_INTERVAL = 0.02
WORKER_TIMEOUT = 600


class SessionSampler(threading.Thread):
    """Peak sessions per application_name (one per scenario) while a worker runs."""

    SQL = ("SELECT application_name, count(*) FROM pg_stat_activity "
           "WHERE application_name LIKE %s GROUP BY application_name")

    def __init__(self, connection):
        super(SessionSampler, self).__init__(name='bench-sampler')
        self.daemon = True
        self.connection = connection
        self.stopping = threading.Event()
        self.peaks = {}

    def run(self):
        cursor = self.connection.cursor()
        while True:
            cursor.execute(self.SQL, [APP_PREFIX + '%'])
            for name, count in cursor.fetchall():
                alias = name[len(APP_PREFIX):]
                self.peaks[alias] = max(self.peaks.get(alias, 0), count)
            if self.stopping.wait(SAMPLE_INTERVAL):
                break
        cursor.close()

    def stop(self):
        self.stopping.set()
        self.join(30)



def admin_connection(url):
    import psycopg
    return psycopg.connect(url, autocommit=True, application_name='bench-sampler-admin')


def worker_env(url, mode, extra=None):
    env = dict(os.environ)
    # Scenario sizes change only where a caller asks (slow_view_sizing.py):
    # the report's labels are SCENARIOS'.
    env.pop('BENCH_SIZES', None)
    env.update(extra or {})
    env.update(DATABASE_URL=url, BENCH_MODE=mode.name,
               DJANGO_SETTINGS_MODULE='benchsite.settings',
               PYTHONPATH=os.pathsep.join([ROOT, os.path.join(ROOT, 'testprojects', 'modern'),
                                           HERE]))
    return env


def run_worker(python, url, mode, extra_args, admin, env=None):
    """Run one worker; return its results, with each scenario's peak sessions."""
    sampler = SessionSampler(admin)
    sampler.start()
    try:
        proc = subprocess.run(
            [python, os.path.join(HERE, 'worker.py')] + extra_args,
            env=worker_env(url, mode, env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, timeout=WORKER_TIMEOUT)
    finally:
        sampler.stop()
    for line in proc.stdout.splitlines():
        if line.startswith('RESULT '):
            results = json.loads(line[len('RESULT '):])
            for alias, _, _ in SCENARIOS:
                if alias in results:
                    results[alias]['peak_connections'] = sampler.peaks.get(alias, 0)
            return results
    raise RuntimeError('worker %s failed (exit %s):\n%s' % (
        mode.name, proc.returncode, (proc.stdout + proc.stderr)[-3000:]))


def pythons(args):
    """venv name -> Python, for the venvs run.sh made (missing ones are None)."""
    found = {'main': args.python or sys.executable}
    path = args.python_pgpool2 or os.path.join(HERE, '.venv-pgpool2', 'bin', 'python')
    found['pgpool2'] = path if os.path.exists(path) else None
    return found


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--quick', dest='preset', action='store_const', const='quick')
    group.add_argument('--full', dest='preset', action='store_const', const='full')
    parser.set_defaults(preset='quick')
    parser.add_argument('--rounds', type=int)
    parser.add_argument('--warmup', type=float)
    parser.add_argument('--seconds', type=float, help='measured seconds per scenario')
    parser.add_argument('--micro-seconds', type=float)
    parser.add_argument('--modes', help='comma-separated mode names (default: all): %s'
                        % ', '.join(mode.name for mode in MODES))
    parser.add_argument('--scenarios', help='comma-separated: %s,micro (default all)'
                        % ','.join(alias for alias, _, _ in SCENARIOS))
    parser.add_argument('--out', default=os.path.join(HERE, 'results', 'latest.json'))
    parser.add_argument('--chart', help='write the PNG chart here (e.g. docs/benchmarks.png)')
    parser.add_argument('--python', help='Python of the main venv (default: this one)')
    parser.add_argument('--python-pgpool2', help='Python of the django-postgrespool2 venv')
    args = parser.parse_args(argv)
    for key, value in PRESETS[args.preset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv=None):
    args = parse_args(argv)
    names = args.modes.split(',') if args.modes else [mode.name for mode in MODES]
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        sys.exit('unknown modes: %s' % ', '.join(unknown))
    found = pythons(args)
    modes, skipped = [], []
    for name in names:
        mode = BY_NAME[name]
        missing = mode.missing_options(OPTION_NAMES)
        if found[mode.venv] is None:
            skipped.append('%s: no venv %s (run.sh makes it)' % (name, mode.venv))
        elif missing:
            skipped.append('%s: this dbpool has no OPTIONS %s' % (name, ', '.join(missing)))
        else:
            modes.append(mode)
    cluster = None
    url = os.environ.get('DATABASE_URL')
    if not url:
        cluster = PgCluster().start()
        url = cluster.url()
        print('started a private PostgreSQL (scram-sha-256) on %s:%s' % (cluster.host,
                                                                         cluster.port))
    for line in skipped:
        print('skipped %s' % line)
    extra = ['--warmup', str(args.warmup), '--seconds', str(args.seconds),
             '--micro-seconds', str(args.micro_seconds)]
    if args.scenarios:
        extra += ['--scenarios', args.scenarios]
    started = time.time()
    rounds = dict((mode.name, []) for mode in modes)
    versions = {}
    try:
        admin = admin_connection(url)
        subprocess.check_call([found['main'], os.path.join(HERE, 'worker.py'), '--setup'],
                              env=worker_env(url, BY_NAME['persistent-pg3']))
        server_version = admin.info.server_version
        for number in range(args.rounds):
            shift = number % len(modes)
            order = modes[shift:] + modes[:shift]
            for mode in order:
                result = run_worker(found[mode.venv], url, mode, extra, admin)
                versions[mode.name] = result.pop('versions')
                rounds[mode.name].append(result)
                print('round %d/%d %-22s %s' % (number + 1, args.rounds, mode.name,
                                                report.round_line(result)))
                sys.stdout.flush()
        admin.close()
    finally:
        if cluster is not None:
            cluster.destroy()
    elapsed = time.time() - started
    command = os.environ.get('BENCH_COMMAND') or 'python benchmarks/compare.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:])
    meta = {
        'command': command.strip(),
        'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
        'elapsed_s': round(elapsed, 1),
        'preset': args.preset, 'rounds': args.rounds, 'warmup_s': args.warmup,
        'seconds': args.seconds, 'micro_seconds': args.micro_seconds,
        'machine': '%s, %d cores, %s' % (platform.machine(), os.cpu_count() or 0,
                                         platform.platform(terse=True)),
        'postgresql': server_version,
        'versions': versions, 'skipped': skipped,
    }
    summary = report.summarise(modes, rounds)
    targets = report.check_targets(summary)
    data = {'meta': meta, 'summary': summary, 'targets': targets, 'rounds': rounds}
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
    with open(args.out, 'w') as f:
        json.dump(data, f, indent=1, sort_keys=True)
    print()
    print('\n'.join(report.table_lines(data)))
    print()
    print('\n'.join(report.target_lines(targets)))
    print('\nresults: %s (%.0f s)' % (args.out, elapsed))
    if args.chart:
        import chart
        chart.draw(data, args.chart)
        print('chart: %s' % args.chart)
    return 0


if __name__ == '__main__':
    sys.exit(main())
