"""pytest plugin: a private PostgreSQL cluster for the test session.

Installed with dbpool (``pytest11`` entry point) or named with
``-p dbpool.testing.pytest_plugin``. It does nothing until asked:

- ``--pgcluster`` (or ``dbpool_pgcluster = true`` in the ``[pytest]`` ini
  section) starts the cluster before conftest.py files and Django settings are
  imported, unless ``DATABASE_URL`` is already set, and sets ``DATABASE_URL``
  for the whole session, so settings that read it at import time (as
  pytest-django loads them) see it;
- the session fixtures ``dbpool_database_url``, ``dbpool_database`` (a
  NAME/USER/PASSWORD/HOST/PORT dict) and ``dbpool_pgcluster`` (the PgCluster,
  or None when ``DATABASE_URL`` came from outside) start it on first use
  otherwise.

The cluster is removed, and ``DATABASE_URL`` restored, when the session
ends. Processes started during the session (pytest-xdist workers, Django's
``--parallel`` workers, subprocesses) inherit ``DATABASE_URL`` and so share
the cluster. No Django here; pytest 4.6 (Python 2.7) to current.
"""
from __future__ import absolute_import, division, print_function

import os

import pytest

from dbpool.testing.pgcluster import PgCluster, parse_database_url, random_password

ENV = 'DATABASE_URL'
INI = 'dbpool_pgcluster'


class SessionDatabase(object):
    """The session's DATABASE_URL: found in the environment or started here."""

    def __init__(self):
        self.cluster = None
        self._saved = None

    def url(self):
        """DATABASE_URL; starts a cluster (and sets it) the first time it is unset."""
        if self.cluster is None and not os.environ.get(ENV):
            self.cluster = PgCluster(password=random_password()).start()
            self._saved = (ENV in os.environ, os.environ.get(ENV))
            os.environ[ENV] = self.cluster.url()
        return os.environ[ENV]

    def describe(self):
        """One line for pytest's header (never the password)."""
        if self.cluster is not None:
            return ('dbpool: private PostgreSQL cluster on %s:%s, removed at the end'
                    % (self.cluster.host, self.cluster.port))
        if os.environ.get(ENV):
            return 'dbpool: DATABASE_URL from the environment'
        return 'dbpool: no cluster yet (started by the dbpool_* fixtures on first use)'

    def close(self):
        """Remove the cluster, put DATABASE_URL back as it was."""
        if self.cluster is None:
            return
        try:
            self.cluster.destroy()
        finally:
            existed, value = self._saved
            if existed:
                os.environ[ENV] = value
            else:
                os.environ.pop(ENV, None)
            self.cluster = None


def _session_database(config):
    holder = getattr(config, '_dbpool_session_database', None)
    if holder is None:
        holder = config._dbpool_session_database = SessionDatabase()
        config.add_cleanup(holder.close)
    return holder


def _asked_for(config, options):
    return bool(getattr(options, 'dbpool_pgcluster', False) or config.getini(INI))


# -- Hooks ---------------------------------------------------------------------

def pytest_addoption(parser):
    group = parser.getgroup('dbpool', 'dbpool throwaway PostgreSQL')
    group.addoption('--pgcluster', action='store_true', dest='dbpool_pgcluster',
                    help='unless DATABASE_URL is set, start a private PostgreSQL '
                    'cluster before conftest files load and set DATABASE_URL; '
                    'removed at the end of the session')
    parser.addini(INI, type='bool', default=False,
                  help='as --pgcluster (true/false)')


@pytest.hookimpl(hookwrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # A wrapper runs before every plain implementation of this hook, so
    # DATABASE_URL is set before pytest-django imports the settings here.
    if _asked_for(early_config, early_config.known_args_namespace):
        _session_database(early_config).url()
    yield


def pytest_report_header(config):
    if _asked_for(config, config.option) or getattr(config, '_dbpool_session_database', None):
        return _session_database(config).describe()
    return None


# -- Fixtures ------------------------------------------------------------------

@pytest.fixture(scope='session')
def dbpool_database_url(request):
    """DATABASE_URL: the environment's, else a private cluster's (set in os.environ)."""
    return _session_database(request.config).url()


@pytest.fixture(scope='session')
def dbpool_database(dbpool_database_url):
    """NAME, USER, PASSWORD, HOST and PORT for DATABASES, from DATABASE_URL."""
    return parse_database_url(dbpool_database_url)


@pytest.fixture(scope='session')
def dbpool_pgcluster(request, dbpool_database_url):
    """The session's PgCluster, or None when DATABASE_URL came from the environment."""
    return _session_database(request.config).cluster
