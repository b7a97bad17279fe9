"""django-prometheus' database metrics, counted right for a pooled wrapper.

django-prometheus counts a new connection in every ``get_new_connection``
and instruments cursors through the driver connection's ``cursor_factory``.
On a pool both are off: ``get_new_connection`` is a checkout, and the
pool's own statements (the reset on return, its catalog reads) run through
that connection's cursors too. ``PrometheusMetrics`` feeds the same metric
objects (``django_db_new_connections_total``, ``django_db_execute_total``,
``django_db_errors_total``, ...) from the right places instead:

- a new connection is counted where the pool opens a physical one (also
  for Django's maintenance connections, which bypass the pool), a failed
  open as a connection error;
- a statement is counted when it runs through a cursor Django made for the
  application (``create_cursor``), never one the pool runs itself.

Importing this module imports django_prometheus; nothing else in dbpool
does. Django's settings must be configured first (django_prometheus reads
PROMETHEUS_METRIC_NAMESPACE and PROMETHEUS_LATENCY_BUCKETS).
"""
from __future__ import absolute_import, division, print_function

import threading

from django_prometheus.db import connection_errors_total, connections_total
from django_prometheus.db.common import ExportingCursorWrapper

_lock = threading.Lock()
_exporting_classes = {}  # (cursor class, alias, vendor) -> its counting subclass


def exporting_cursor_class(cursor_class, alias, vendor):
    """django-prometheus' counting subclass of ``cursor_class``: one class per triple.

    django-prometheus builds a new class per call; reusing one keeps a
    cursor's class as deep at the thousandth checkout as at the first.
    """
    key = (cursor_class, alias, vendor)
    exporting = _exporting_classes.get(key)
    if exporting is None:
        with _lock:
            exporting = _exporting_classes.get(key)
            if exporting is None:
                exporting = _exporting_classes[key] = ExportingCursorWrapper(
                    cursor_class, alias, vendor)
    return exporting


class PrometheusMetrics(object):
    """A mixin for a dbpool DatabaseWrapper (put it first) that feeds django-prometheus' metrics."""

    def _dbpool_open_physical(self, conn_params):
        # The pool's connector opens every physical connection here.
        return self._dbpool_count_connect(super(PrometheusMetrics, self)._dbpool_open_physical,
                                          conn_params)

    def get_new_connection(self, conn_params):
        if self.alias == getattr(self, 'no_db_alias', None):
            # Maintenance connections are opened directly, not pooled.
            return self._dbpool_count_connect(
                super(PrometheusMetrics, self).get_new_connection, conn_params)
        return super(PrometheusMetrics, self).get_new_connection(conn_params)

    def create_cursor(self, name=None):
        # The counting class only for this one cursor: the connection's own
        # factory, which the pool's statements use, stays as it was.
        connection = self.connection
        plain = connection.cursor_factory
        base = plain if plain is not None else self._dbpool_driver().extensions.cursor
        connection.cursor_factory = exporting_cursor_class(base, self.alias, self.vendor)
        try:
            return super(PrometheusMetrics, self).create_cursor(name)
        finally:
            connection.cursor_factory = plain

    def _dbpool_count_connect(self, open_connection, conn_params):
        connections_total.labels(self.alias, self.vendor).inc()
        try:
            return open_connection(conn_params)
        except Exception:
            connection_errors_total.labels(self.alias, self.vendor).inc()
            raise
