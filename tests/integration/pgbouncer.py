"""A real PgBouncer on a free loopback port, in front of the server under test."""
from __future__ import absolute_import, division, print_function

import os
import shutil
import socket
import subprocess
import tempfile
import time

from dbpool.testing.pgcluster import LOOPBACK, SERVER_USER, free_port


def find_pgbouncer():
    """Path of the pgbouncer program (Debian puts it in /usr/sbin), or None."""
    folders = os.environ.get('PATH', '').split(os.pathsep) + ['/usr/sbin', '/usr/local/sbin']
    for folder in folders:
        path = os.path.join(folder, 'pgbouncer')
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


class PgBouncer(object):
    """pgbouncer in ``pool_mode`` for one database, with scram-sha-256 auth like the cluster."""

    def __init__(self, database, pool_mode, pool_size=4):
        self.database = database  # NAME/USER/PASSWORD/HOST/PORT of the real server
        self.pool_mode = pool_mode
        self.pool_size = pool_size
        self.port = None
        self.dir = None
        self.process = None

    def settings(self):
        """The server's settings dict, pointed at PgBouncer."""
        return dict(self.database, HOST=LOOPBACK, PORT=str(self.port))

    def start(self):
        self.dir = tempfile.mkdtemp(prefix='dbpool-pgbouncer-')
        for attempt in range(3):
            self.port = free_port()
            self._write_files()
            if self._launch():
                return self
        raise RuntimeError('pgbouncer did not start:\n' + self.log())

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait()
            except OSError:
                pass
        self.process = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def log(self):
        try:
            with open(os.path.join(self.dir, 'pgbouncer.log')) as f:
                return f.read()[-4000:]
        except EnvironmentError:
            return ''

    def _write_files(self):
        db = self.database
        ini = '\n'.join([
            '[databases]',
            '%s = host=%s port=%s dbname=%s' % (db['NAME'], db['HOST'], db['PORT'], db['NAME']),
            '[pgbouncer]',
            'listen_addr = %s' % LOOPBACK,
            'listen_port = %d' % self.port,
            'unix_socket_dir =',
            'auth_type = scram-sha-256',
            'auth_file = %s' % os.path.join(self.dir, 'userlist.txt'),
            'pool_mode = %s' % self.pool_mode,
            'default_pool_size = %d' % self.pool_size,
            'max_client_conn = 200',
            'logfile = %s' % os.path.join(self.dir, 'pgbouncer.log'),
            # What server_reset_query runs in session mode (its default),
            # spelt out so the docs and the test agree.
            'server_reset_query = DISCARD ALL',
            '',
        ])
        userlist = '"%s" "%s"\n' % (db['USER'], db['PASSWORD'].replace('"', '""'))
        self._write('pgbouncer.ini', ini, 0o644)
        self._write('userlist.txt', userlist, 0o600)

    def _write(self, name, text, mode):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, mode)
        self._give(path)

    def _give(self, path):
        # pgbouncer refuses to run as root: it runs as the server's user.
        if os.geteuid() == 0:
            import pwd
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _launch(self):
        os.chmod(self.dir, 0o755)
        self._give(self.dir)
        args = [find_pgbouncer()]
        if os.geteuid() == 0:
            args += ['-u', SERVER_USER]
        args.append(os.path.join(self.dir, 'pgbouncer.ini'))
        with open(os.devnull, 'w') as devnull:
            self.process = subprocess.Popen(args, stdout=devnull, stderr=subprocess.STDOUT,
                                            cwd=self.dir, close_fds=True)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.process.poll() is not None:
                self.process = None
                return False  # e.g. the port was taken meanwhile
            try:
                socket.create_connection((LOOPBACK, self.port), timeout=1).close()
                return True
            except socket.error:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError('pgbouncer did not listen within 15 s')
