"""Test helpers for dbpool and for projects that use it (no Django here).

- ``pgcluster``: ``PgCluster``, a private throwaway PostgreSQL cluster, and
  ``parse_database_url``;
- ``pgcluster_cli``: the ``dbpool-pgcluster`` command (serve, or run a
  command with ``DATABASE_URL`` set);
- ``pytest_plugin``: ``--pgcluster`` and the ``dbpool_*`` session fixtures;
- ``replication``: streaming standbys of a ``PgCluster`` (make, promote,
  follow), for failover tests;
- ``loadrun``: the load driver of the sample projects' demo.

docs/testing.md describes the public ones.
"""
