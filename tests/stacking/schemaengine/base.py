"""ENGINE ``tests.stacking.schemaengine``: a wrapper stacked on the pooled ENGINE.

It behaves as django-tenants' does, in a few lines and on every Django
release: each wrapper has a schema (``set_schema``), put on the session
with ``SET search_path`` before the first query after it changed or after
a connect, and remembered as set until ``close()`` (django-tenants'
TENANT_LIMIT_SET_CALLS). It also sets it inside the process's first
connect() of an alias (1.6+), as django-tenants does there through Django
4.2+'s server version check (once per alias and process).
"""
from __future__ import absolute_import, division, print_function

from dbpool.db.backends.postgresql import base

# The aliases whose first connect() this process made (Django's
# RAN_DB_VERSION_CHECK); tests clear it to start as a new process would.
CONNECTED_ALIASES = set()


class DatabaseWrapper(base.DatabaseWrapper):
    """The pooled wrapper, with a per-wrapper schema on the session's search_path."""

    schema_name = 'public'
    _schema_is_set = False

    def set_schema(self, schema_name):
        self.schema_name = schema_name
        self._schema_is_set = False

    def close(self):
        self._schema_is_set = False
        return super(DatabaseWrapper, self).close()

    def init_connection_state(self):
        super(DatabaseWrapper, self).init_connection_state()
        if self.alias not in CONNECTED_ALIASES:
            CONNECTED_ALIASES.add(self.alias)
            self._set_search_path()
            if not self.connection.autocommit:
                # Django 1.6-1.7 switch autocommit on only after this, which
                # psycopg2 refuses inside the transaction the SET opened;
                # Django's own set-up commits there the same way.
                self.connection.commit()

    def _cursor(self, *args, **kwargs):
        cursor = super(DatabaseWrapper, self)._cursor(*args, **kwargs)
        self._set_search_path()
        return cursor

    def _set_search_path(self):
        if self._schema_is_set:
            return
        cursor = self.connection.cursor()
        try:
            cursor.execute('SET search_path = "%s", public' % self.schema_name)
        finally:
            cursor.close()
        self._schema_is_set = True
