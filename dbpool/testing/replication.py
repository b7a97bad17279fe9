"""Streaming standbys of a PgCluster, for failover tests: make, promote, follow.

A primary made with ``PgCluster(replication=True)`` accepts replication
connections on loopback. Then::

    standby = make_standby(primary)   # pg_basebackup -R, started, streaming
    primary.stop()
    promote(standby)                  # pg_ctl promote: it now takes writes
    follow(primary, standby)          # the old primary, rewound, now its standby

Every cluster keeps its port throughout, so a multi-host connection string
('host=a,b port=x,y') names the same two servers before and after. No
Django here.
"""
from __future__ import absolute_import, division, print_function

import os
import time

from dbpool.testing.pgcluster import PgCluster

__all__ = ['make_standby', 'promote', 'follow', 'query', 'in_recovery', 'wait_streaming']


def make_standby(primary, port=None):
    """Return a new, running PgCluster that streams from the running ``primary``."""
    if not primary.replication:
        raise ValueError('%r was not made with replication=True' % primary)
    standby = PgCluster(port=port, password=primary.password, user=primary.user,
                        dbname=primary.dbname, base_dir=primary._parent_dir,
                        extra_conf=primary.extra_conf, replication=True)
    standby._make_dirs()
    try:
        # -R writes standby.signal and primary_conninfo, with the password
        # (in the data dir, which only the server's user may read); it
        # reaches pg_basebackup through the environment, not ps.
        _server_program(standby, primary, [
            standby._bin('pg_basebackup'), '-D', standby.data_dir, '-h', primary.host,
            '-p', str(primary.port), '-U', primary.user, '-w', '-R', '-X', 'stream',
            '-c', 'fast', '--no-sync'])
        standby._db_created = True  # copied from the primary
        standby.start()  # the data dir exists: no initdb; its own port and socket dir
        wait_streaming(primary)
    except Exception:
        standby.destroy()
        raise
    return standby


def promote(cluster):
    """Turn the running standby ``cluster`` into a primary; return once it takes writes."""
    cluster._pg_ctl('promote')  # -w: waits until the promotion is done


def follow(cluster, primary, timeout=30.0):
    """Stop ``cluster`` (an old primary) and restart it as a standby of ``primary``.

    pg_rewind first takes back whatever it wrote after ``primary`` left its
    timeline (nothing, when it was stopped cleanly before the promotion),
    and, with -R, makes it a standby of ``primary``.
    """
    cluster.stop('fast')
    # pg_rewind reads the source's timeline from its control file, which a
    # just-promoted server updates only at its next checkpoint.
    query(primary, 'CHECKPOINT')
    _server_program(cluster, primary, [
        cluster._bin('pg_rewind'), '-D', cluster.data_dir, '-R', '--no-sync',
        '--source-server=host=%s port=%s user=%s dbname=postgres' % (
            primary.host, primary.port, primary.user)])
    signal = os.path.join(cluster.data_dir, 'standby.signal')
    if not os.path.exists(signal):
        raise RuntimeError('pg_rewind -R left no standby.signal in %s' % cluster.data_dir)
    cluster.start()
    wait_streaming(primary, timeout)


def query(cluster, sql):
    """The first column of the first row of ``sql`` on ``cluster``, as text, through psql."""
    code, out = cluster._run([cluster._bin('psql'), '-X', '-w', '-A', '-t', '-c', sql],
                             env=cluster.psql_env())
    if code != 0:
        raise RuntimeError('psql on %r failed (exit %s):\n%s' % (cluster, code, out))
    return out.strip().split('\n')[0]


def in_recovery(cluster):
    """True when ``cluster`` is a standby (pg_is_in_recovery())."""
    return query(cluster, 'SELECT pg_is_in_recovery()') == 't'


def wait_streaming(primary, timeout=30.0):
    """Wait until a standby streams from ``primary``; RuntimeError after ``timeout`` s."""
    deadline = time.time() + timeout
    sql = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
    while query(primary, sql) == '0':
        if time.time() > deadline:
            raise RuntimeError('no standby streams from %r after %.0f s' % (primary, timeout))
        time.sleep(0.05)


def _server_program(cluster, source, args):
    # As the server's user (it must own the files), with the source's
    # password in the environment.
    code, out = cluster._run(args, server=True, env=source.psql_env())
    if code != 0:
        raise RuntimeError('%s failed (exit %s):\n%s' % (os.path.basename(args[0]), code, out))
