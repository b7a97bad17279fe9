"""A private, throwaway PostgreSQL cluster for tests, demos and benchmarks.

``PgCluster`` runs initdb/pg_ctl from the local PostgreSQL install in its own
temp dir, on a free loopback port, with scram-sha-256 password auth (as a real
deployment has). No Django here. From the shell (``dbpool-pgcluster`` once
installed; docs/testing.md has the whole story)::

    python -m dbpool.testing.pgcluster serve         # print DATABASE_URL=..., wait
    python -m dbpool.testing.pgcluster run -- CMD    # run CMD with DATABASE_URL set

Public API: PgCluster, free_port, find_pg_bin, parse_database_url,
database_settings_from_env, random_password, main.
"""
from __future__ import absolute_import, division, print_function

import atexit
import binascii
import errno
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile

try:
    from urllib.parse import quote, unquote
except ImportError:  # Python 2
    from urllib import quote, unquote

LOOPBACK = '127.0.0.1'
SERVER_USER = 'postgres'  # initdb, pg_ctl and postgres refuse to run as root
HBA = ('# written by dbpool.testing.pgcluster: passwords only, loopback only\n'
       'local all all scram-sha-256\n'
       'host all all 127.0.0.1/32 scram-sha-256\n'
       'host all all ::1/128 scram-sha-256\n')
# With replication=True: streaming standbys (dbpool.testing.replication)
# connect on loopback with the same password.
REPLICATION_HBA = ('host replication all 127.0.0.1/32 scram-sha-256\n'
                   'host replication all ::1/128 scram-sha-256\n')


def _which(name):
    """Return the executable ``name`` found on PATH, or None."""
    for folder in os.environ.get('PATH', os.defpath).split(os.pathsep):
        path = os.path.join(folder or os.curdir, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _bindirs():
    """Yield PostgreSQL bin dirs: pg_config's, then Debian's, newest first."""
    if _which('pg_config'):
        try:
            yield subprocess.check_output(['pg_config', '--bindir'],
                                          universal_newlines=True).strip()
        except (OSError, subprocess.CalledProcessError):
            pass
    # Debian keeps the server off PATH, and its pg_config comes with
    # libpq-dev, which a machine with only the server may lack.
    def version(path):
        return [int(p) for p in path.split('/')[-2].split('.') if p.isdigit()]
    for path in sorted(glob.glob('/usr/lib/postgresql/*/bin'), key=version,
                       reverse=True):
        yield path


def find_pg_bin(name):
    """Return the path of PostgreSQL program ``name``: PATH, then pg_config."""
    found = _which(name)
    if found:
        return found
    for bindir in _bindirs():
        path = os.path.join(bindir, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise RuntimeError(
        'PostgreSQL program %r not found on PATH nor in `pg_config --bindir`:'
        ' install the PostgreSQL server and client (Debian/Ubuntu: apt-get '
        'install postgresql postgresql-client)' % name)


def parse_database_url(url):
    """Turn 'postgres://user:pw@host:port/db' into a Django settings dict."""
    # Errors never quote the URL: it usually holds a password.
    scheme, sep, rest = url.partition('://')
    if not sep or scheme.lower() not in ('postgres', 'postgresql'):
        raise ValueError('DATABASE_URL must start with postgres:// or '
                         'postgresql:// (got scheme %r)' % scheme[:20])
    netloc, _, path = rest.partition('/')
    path = path.split('?', 1)[0].split('#', 1)[0]
    userinfo, _, hostport = netloc.rpartition('@')
    user, _, password = userinfo.partition(':')
    if hostport.startswith('['):  # IPv6 literal: [::1]:5432
        host, _, port = hostport[1:].partition(']')
        port = port[1:] if port.startswith(':') else port
    else:
        host, _, port = hostport.partition(':')
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError('DATABASE_URL has an invalid port %r' % port[:10])
    return {'NAME': unquote(path), 'USER': unquote(user),
            'PASSWORD': unquote(password), 'HOST': unquote(host), 'PORT': port}


def database_settings_from_env(environ=None):
    """Return (settings, cluster): DATABASE_URL's, else a new PgCluster's."""
    url = (os.environ if environ is None else environ).get('DATABASE_URL')
    if url:
        return parse_database_url(url), None
    cluster = PgCluster().start()
    atexit.register(cluster.destroy)
    return cluster.settings(), cluster


def random_password():
    """A fresh password for a throwaway cluster (24 hex digits)."""
    # Other local users can reach a loopback port: a fixed, published
    # password would let them in.
    return str(binascii.hexlify(os.urandom(12)).decode('ascii'))  # native str on 2.7


def free_port():
    """Return a loopback TCP port that was free a moment ago."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


def _conf_line(name, value):
    """Render one postgresql.conf line (value quoted unless bool/number)."""
    if isinstance(value, bool):
        value = 'on' if value else 'off'
    elif not isinstance(value, (int, float)):
        value = "'%s'" % ('%s' % value).replace("'", "''")
    return '%s = %s\n' % (name, value)


def _give_to_server(path):
    """When root, chown path to the user the server runs as."""
    if os.geteuid() == 0:
        import pwd
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


class PgCluster(object):
    """A private PostgreSQL server on a loopback port, in its own temp dir."""

    host = LOOPBACK

    def __init__(self, port=None, password='dbpool-secret', user='dbpool',
                 dbname='dbpool', base_dir=None, extra_conf=None, replication=False):
        self.port, self.user, self.dbname = port, user, dbname
        self.password = password
        self.extra_conf = dict(extra_conf or {})
        # Standbys may stream from it, and it may be rewound to follow one
        # (pg_rewind needs wal_log_hints or data checksums, and full page
        # writes on its source). A commit is acknowledged once its WAL is
        # written, so a standby can have it: what failover tests count.
        self.replication = replication
        if replication:
            self.extra_conf.setdefault('wal_log_hints', True)
            self.extra_conf.setdefault('full_page_writes', True)
            self.extra_conf.setdefault('synchronous_commit', True)
        self._fixed_port = port is not None
        self._parent_dir = base_dir  # our temp dir is made inside it
        self.base_dir = self.data_dir = self.log_file = None  # see start()
        self._bindir = None
        self._db_created = self._destroyed = False

    def __repr__(self):  # no password: reprs end up in logs
        return '<PgCluster %s:%s %s%s>' % (self.host, self.port, self.base_dir,
                                          ' running' * self.is_running())

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.destroy()

    def url(self):
        """Return the postgres:// URL of the cluster (password included)."""
        return 'postgres://%s:%s@%s:%s/%s' % (
            quote(self.user, safe=''), quote(self.password, safe=''),
            self.host, self.port, quote(self.dbname, safe=''))

    def settings(self):
        """Return NAME/USER/PASSWORD/HOST/PORT for Django's DATABASES."""
        return {'NAME': self.dbname, 'USER': self.user, 'HOST': self.host,
                'PASSWORD': self.password, 'PORT': str(self.port)}

    def psql_env(self):
        """Return a copy of os.environ with PG* variables pointing here."""
        env = dict(os.environ)
        for name in ('PGSERVICE', 'PGPASSFILE', 'PGHOSTADDR', 'PGOPTIONS'):
            env.pop(name, None)  # each could send psql elsewhere
        env.update(PGHOST=self.host, PGPORT=str(self.port), PGUSER=self.user,
                   PGPASSWORD=self.password, PGDATABASE=self.dbname)
        return env

    def is_running(self):
        """Tell whether this cluster's postmaster is alive."""
        if self.data_dir is None:
            return False
        try:
            with open(os.path.join(self.data_dir, 'postmaster.pid')) as f:
                os.kill(int(f.readline()), 0)
        except (ValueError, EnvironmentError) as exc:
            return getattr(exc, 'errno', None) == errno.EPERM
        return True

    def start(self):
        """Create the cluster on first use, start it, return self."""
        if self._destroyed:
            raise RuntimeError('this PgCluster was destroyed')
        if self.is_running():
            return self
        if self.base_dir is None:
            self._make_dirs()
        if not os.path.exists(os.path.join(self.data_dir, 'PG_VERSION')):
            self._initdb()
        # A port from free_port() can be taken before postgres binds it:
        # then try another. A port the caller chose is tried once.
        attempts = 1 if self._fixed_port else 3
        for attempt in range(attempts):
            if self.port is None or attempt:
                self.port = free_port()
            self._write_conf()
            try:
                self._pg_ctl('start', '-l', self.log_file)
                break
            except RuntimeError as exc:
                if attempt + 1 == attempts or 'in use' not in str(exc):
                    raise
        self._create_db()
        return self

    def stop(self, mode='fast'):
        """Shut the server down (pg_ctl stop -m mode); the data is kept."""
        if self.is_running():
            self._pg_ctl('stop', '-m', mode)

    def restart(self, mode='fast'):
        """Restart the server (pg_ctl restart -m mode) on the same port."""
        if not self.is_running():
            return self.start()
        self._pg_ctl('restart', '-m', mode, '-l', self.log_file)
        return self

    def destroy(self):
        """Stop the server if running and remove the whole temp dir."""
        if self._destroyed:  # idempotent: atexit may call it again
            return
        self._destroyed = True
        try:
            try:
                self.stop('fast')
            except RuntimeError:
                self.stop('immediate')
        finally:
            if self.base_dir:
                shutil.rmtree(self.base_dir, ignore_errors=True)

    def _make_dirs(self):
        self.base_dir = tempfile.mkdtemp(prefix='dbpool-pg-',
                                         dir=self._parent_dir)
        self.data_dir = os.path.join(self.base_dir, 'data')
        self.log_file = os.path.join(self.base_dir, 'postgres.log')
        if os.geteuid() == 0:
            # The server user must enter this dir and create the data dir,
            # the log file and the unix socket in it.
            os.chmod(self.base_dir, 0o755)
            _give_to_server(self.base_dir)

    def _bin(self, name):
        """Path of ``name``, from pg_ctl's install when it has one."""
        if self._bindir is None:
            pg_ctl = os.path.realpath(find_pg_bin('pg_ctl'))
            self._bindir = os.path.dirname(pg_ctl)
        path = os.path.join(self._bindir, name)
        return path if os.access(path, os.X_OK) else find_pg_bin(name)

    def _run(self, args, server=False, env=None):
        """Run a program; return (exit code, its stdout and stderr)."""
        if server and os.geteuid() == 0:
            args = [_which('runuser') or 'runuser', '-u', SERVER_USER,
                    '--'] + args
        try:
            with open(os.devnull) as devnull:
                # cwd: the server user may not be allowed into ours.
                proc = subprocess.Popen(
                    args, stdin=devnull, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, cwd=self.base_dir, env=env,
                    close_fds=True, universal_newlines=True)
                out = proc.communicate()[0]
        except OSError as exc:
            raise RuntimeError('cannot run %s: %s' % (args[0], exc))
        return proc.returncode, out

    def _pg_ctl(self, action, *options):
        args = [self._bin('pg_ctl'), action, '-D', self.data_dir, '-w',
                '-t', '60'] + list(options)
        code, out = self._run(args, server=True)
        if code != 0:
            try:
                with open(self.log_file) as f:
                    out += '--- tail of %s ---\n' % self.log_file
                    out += ''.join(f.readlines()[-20:])
            except EnvironmentError:
                pass
            raise RuntimeError('pg_ctl %s failed (exit %s):\n%s'
                               % (action, code, out))

    def _initdb(self):
        # The password goes through a file: a command line shows in ps.
        pwfile = os.path.join(self.base_dir, 'pwfile')
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(self.password + '\n')
        _give_to_server(pwfile)
        try:  # --no-sync, like fsync=off later: the cluster is throwaway.
            code, out = self._run(
                [self._bin('initdb'), '-D', self.data_dir, '-U', self.user,
                 '--pwfile=' + pwfile, '--auth=scram-sha-256', '-E', 'UTF8',
                 '--locale=C', '--no-sync'], server=True)
        finally:
            os.remove(pwfile)
        if code != 0:
            raise RuntimeError('initdb failed (exit %s):\n%s' % (code, out))
        # initdb -A already asks for passwords everywhere; our own pg_hba
        # keeps that true whatever initdb's defaults become.
        self._write_data_file('pg_hba.conf', HBA + REPLICATION_HBA * self.replication)
        with open(os.path.join(self.data_dir, 'postgresql.conf'), 'a') as f:
            f.write("\ninclude 'dbpool.conf'\n")

    def _write_data_file(self, name, text):
        path = os.path.join(self.data_dir, name)
        with open(path, 'w') as f:
            f.write(text)
        _give_to_server(path)

    def _write_conf(self):
        # A file that postgresql.conf includes, so that restart keeps these;
        # rewritten before each start as the port may have moved.
        conf = [('listen_addresses', LOOPBACK), ('port', self.port),
                ('unix_socket_directories', self.base_dir),
                ('max_connections', 200), ('fsync', False),
                ('synchronous_commit', False), ('full_page_writes', False),
                ('log_min_messages', 'warning'),
                # The zone Django uses with USE_TZ, as servers set up for
                # Django are: the pool's reset is then one DISCARD ALL.
                ('timezone', 'UTC')]
        conf += sorted(self.extra_conf.items())  # later lines win
        self._write_data_file('dbpool.conf', ''.join(
            _conf_line(name, value) for name, value in conf))

    def _create_db(self):
        if self._db_created or self.dbname == 'postgres':
            return
        env = dict(self.psql_env(), PGDATABASE='postgres')
        code, out = self._run([self._bin('createdb'), '-w', '-O', self.user,
                               self.dbname], env=env)
        if code != 0:
            raise RuntimeError('createdb %s failed (exit %s):\n%s'
                               % (self.dbname, code, out))
        self._db_created = True


def main(argv=None):
    """The command line (``dbpool-pgcluster``): see dbpool.testing.pgcluster_cli."""
    from dbpool.testing.pgcluster_cli import main as cli_main
    return cli_main(argv)


if __name__ == '__main__':
    sys.exit(main())
