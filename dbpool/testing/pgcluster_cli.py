"""The ``dbpool-pgcluster`` command: a throwaway PostgreSQL for a shell, CI or tox.

::

    dbpool-pgcluster [OPTIONS] [serve]                 start, print DATABASE_URL, wait
    dbpool-pgcluster [OPTIONS] [run] -- CMD [ARGS...]  start, run CMD against it, remove

Also ``python -m dbpool.testing.pgcluster``. ``run`` gives CMD the
environment plus ``DATABASE_URL`` and libpq's ``PG*`` variables, removes the
cluster when CMD ends, and exits with CMD's status: 128+N when signal N ended
it, 127 when it could not be started, 125 when the cluster could not be
started, 2 for a usage error. ``serve`` prints ``DATABASE_URL=...`` (or shell
``export`` lines) once the server accepts connections and removes the cluster
at Ctrl-C or SIGTERM. No Django here.
"""
from __future__ import absolute_import, division, print_function

import argparse
import os
import signal
import subprocess
import sys
import time

from dbpool.testing.pgcluster import PgCluster, random_password

try:
    from shlex import quote as shell_quote
except ImportError:  # Python 2
    from pipes import quote as shell_quote

PROG = 'dbpool-pgcluster'
EXIT_USAGE = 2
EXIT_NOT_STARTED = 125  # as env(1) and timeout(1): the wrapper itself failed
EXIT_NOT_FOUND = 127    # as a shell: the command could not be run


def build_parser():
    """The options that may precede ``serve``, ``run`` or ``--``."""
    parser = argparse.ArgumentParser(
        prog=PROG, usage='%(prog)s [OPTIONS] [serve]\n'
        '       %(prog)s [OPTIONS] [run] -- CMD [ARGS...]',
        description='Start a private, throwaway PostgreSQL cluster on a free '
        'loopback port (initdb/pg_ctl of the local install, no Docker), then '
        'serve it until Ctrl-C or run CMD with DATABASE_URL set; the cluster '
        'is removed afterwards.')
    parser.add_argument('action', nargs='?', choices=('serve', 'run'),
                        help='serve (the default without CMD) or run (with CMD)')
    parser.add_argument('--port', type=int, help='port to listen on (default: a free one)')
    parser.add_argument('--dbname', default='dbpool', help='database to create (default: dbpool)')
    parser.add_argument('--user', default='dbpool', help='superuser to create (default: dbpool)')
    parser.add_argument('--base-dir', help='where the temp dir goes (default: $TMPDIR)')
    parser.add_argument('--reuse', action='store_true',
                        help='run: when DATABASE_URL is already set, run CMD against it '
                        'and start nothing')
    parser.add_argument('--export', action='store_true',
                        help='serve: print shell "export" lines (DATABASE_URL and PG*)')
    return parser


def parse_args(argv):
    """Return (options, command); the command follows the first ``--``."""
    command = None
    if '--' in argv:
        split = argv.index('--')
        argv, command = argv[:split], argv[split + 1:]
    parser = build_parser()
    options = parser.parse_args(argv)
    if command is not None and not command:
        parser.error('nothing to run after --')
    if options.action is None:
        options.action = 'run' if command else 'serve'
    if options.action == 'run' and not command:
        parser.error('run needs a command: %s run -- CMD [ARGS...]' % PROG)
    if options.action == 'serve' and command:
        parser.error('serve takes no command; use run -- CMD')
    return options, command


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)


def child_environment(cluster):
    """os.environ plus DATABASE_URL and the PG* variables of ``cluster``."""
    # PG* too, so that plain psql, pg_dump or pgbench find the cluster.
    return dict(cluster.psql_env(), DATABASE_URL=cluster.url())


def export_lines(cluster):
    """Shell lines that export DATABASE_URL and PG* for ``cluster``."""
    env = child_environment(cluster)
    names = ('DATABASE_URL', 'PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE')
    return ''.join('export %s=%s\n' % (name, shell_quote(env[name])) for name in names)


def masked_url(cluster):
    """The cluster's URL with the password hidden, for messages."""
    return cluster.url().replace(':%s@' % cluster.password, ':***@', 1)


def serve(cluster, options):
    """Print DATABASE_URL (or export lines), then wait for SIGINT or SIGTERM."""
    if options.export:
        sys.stdout.write(export_lines(cluster))
    else:
        sys.stdout.write('DATABASE_URL=%s\n' % cluster.url())
    sys.stdout.flush()
    print('%s: serving on %s:%s from %s; Ctrl-C or SIGTERM stops and removes it'
          % (PROG, cluster.host, cluster.port, cluster.base_dir), file=sys.stderr)
    # Set explicitly: a shell starts background jobs with SIGINT ignored.
    signal.signal(signal.SIGINT, _exit_on_signal)
    try:
        while True:
            time.sleep(3600)
    except SystemExit:
        return 0


def run_command(command, env):
    """Run ``command`` with ``env``; return its exit status, shell style."""
    try:
        child = subprocess.Popen(command, env=env)
    except OSError as exc:
        print('%s: cannot run %s: %s' % (PROG, command[0], exc), file=sys.stderr)
        return EXIT_NOT_FOUND
    # Ctrl-C reaches the child too (same process group): let it decide.
    # A SIGTERM sent to us alone is passed on. (Python handlers, unlike
    # SIG_IGN, are not inherited by the child.)
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    signal.signal(signal.SIGTERM, lambda signum, frame: child.terminate())
    code = child.wait()
    return 128 - code if code < 0 else code


def main(argv=None):
    """Serve a cluster, or run ``-- CMD ARGS...`` against one; the exit status."""
    options, command = parse_args(sys.argv[1:] if argv is None else list(argv))
    if options.action == 'run' and options.reuse and os.environ.get('DATABASE_URL'):
        print('%s: DATABASE_URL is set (--reuse): starting no cluster' % PROG,
              file=sys.stderr)
        return run_command(command, dict(os.environ))
    signal.signal(signal.SIGTERM, _exit_on_signal)  # so that finally runs
    cluster = PgCluster(port=options.port, user=options.user, dbname=options.dbname,
                        password=random_password(), base_dir=options.base_dir)
    try:
        try:
            cluster.start()
        except RuntimeError as exc:
            print('%s: %s' % (PROG, exc), file=sys.stderr)
            return EXIT_NOT_STARTED
        if options.action == 'serve':
            return serve(cluster, options)
        print('%s: PostgreSQL on %s for %s; removed when it ends'
              % (PROG, masked_url(cluster), command[0]), file=sys.stderr)
        return run_command(command, child_environment(cluster))
    finally:
        cluster.destroy()


if __name__ == '__main__':
    sys.exit(main())
