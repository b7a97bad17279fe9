"""ENGINE ``dbpool.db.backends.prometheus``: the pooled PostgreSQL backend with django-prometheus' metrics.

``dbpool.db.backends.postgresql`` with ``dbpool.db.prometheus_metrics``
in front: new connections are the physical connections the pool opens,
statements those the application runs (never the pool's own reset). Needs
django-prometheus installed; see docs/stacking.md.
"""
from __future__ import absolute_import, division, print_function

from dbpool.db.backends.postgresql import base
from dbpool.db.prometheus_metrics import PrometheusMetrics


class DatabaseWrapper(PrometheusMetrics, base.DatabaseWrapper):
    """The pooled PostgreSQL DatabaseWrapper, counted by django-prometheus."""
