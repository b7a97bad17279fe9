"""A primary and its streaming standby on loopback, for the failover tests.

Each pair is private (its own two clusters), whatever DATABASE_URL says:
the tests stop, promote and rewind its servers.
"""
from __future__ import absolute_import, division, print_function

import time

import pytest

from dbpool.testing.pgcluster import PgCluster, find_pg_bin
from dbpool.testing.replication import follow, make_standby, promote, query


def make_pair():
    """A private primary and standby (skipped without pg_basebackup and pg_rewind)."""
    from tests.support import required_tools
    try:
        find_pg_bin('pg_basebackup')
        find_pg_bin('pg_rewind')
    except RuntimeError as exc:
        if 'postgresql-server' in required_tools():
            raise
        pytest.skip('a streaming standby needs the PostgreSQL server programs: %s' % exc)
    return StandbyPair()


class StandbyPair(object):
    """Two servers, ``first`` and ``second`` in the order a host list names them."""

    def __init__(self):
        self.first = PgCluster(replication=True).start()
        try:
            self.second = make_standby(self.first)
        except Exception:
            self.first.destroy()
            raise
        self.primary, self.standby = self.first, self.second

    def settings(self):
        """HOST and PORT naming both servers, as libpq's multi-host lists do."""
        return dict(self.first.settings(), HOST='%s,%s' % (self.first.host, self.second.host),
                    PORT='%s,%s' % (self.first.port, self.second.port))

    def execute(self, sql, cluster=None):
        """Run ``sql`` on the primary (or ``cluster``) through psql; the first value."""
        return query(cluster or self.primary, sql)

    def fail_over(self):
        """Stop the primary (fast), promote the standby: their roles swap."""
        self.primary.stop('fast')
        promote(self.standby)
        self.primary, self.standby = self.standby, self.primary

    def switch_over_fenced(self):
        """Make the primary read-only (its sessions live on), let the standby catch up, promote it.

        A switchover that fences the old primary rather than stopping it;
        the old primary keeps running, read-only.
        """
        old, new = self.primary, self.standby
        self.execute('ALTER SYSTEM SET default_transaction_read_only = on')
        self.execute('SELECT pg_reload_conf()')
        # Each session reads the new setting before its next statement;
        # one already running may still commit meanwhile.
        time.sleep(0.2)
        lsn = self.execute('SELECT pg_current_wal_insert_lsn()')
        deadline = time.time() + 30
        while self.execute("SELECT pg_last_wal_replay_lsn() >= '%s'" % lsn, new) != 't':
            assert time.time() < deadline, 'the standby did not catch up'
            time.sleep(0.02)
        promote(new)
        self.primary, self.standby = new, old

    def rejoin(self):
        """Restart the stopped old primary as a streaming standby of the new one."""
        follow(self.standby, self.primary)

    def destroy(self):
        for cluster in (self.first, self.second):
            cluster.destroy()
