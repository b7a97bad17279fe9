"""The pools' statistics as a ``prometheus_client`` collector, in Prometheus' own conventions.

``register()`` adds one collector to a registry (the default one unless
told); at each scrape it reads every pool of the process (dbpool.registry)
and yields its gauges, counters and histograms, labelled with the pool's
``alias`` and ``pool`` name. Needs ``prometheus_client`` only
(``pip install django-db-pool[prometheus]``); no Django.

Not to be confused with ``dbpool.db.prometheus_metrics`` and the ENGINE
``dbpool.db.backends.prometheus``: those stack django-prometheus' own
database metrics (statements, errors) on the pool (docs/stacking.md).

Counters are read from the pools' snapshots, so ``pop_stats()`` (which
zeroes them) looks to Prometheus like a counter reset; ``rate()`` copes.
"""
from __future__ import absolute_import, division, print_function

from dbpool import registry as pools_of_process, stats

try:
    from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                        HistogramMetricFamily)
    from prometheus_client.utils import floatToGoString
except ImportError as exc:  # pragma: no cover - the cells without it never import us
    raise ImportError('dbpool.prometheus_collector needs prometheus_client (pip install '
                      'django-db-pool[prometheus]): %s' % exc)

__all__ = ['PoolCollector', 'register']

LABELS = ['alias', 'pool']

# (metric name without _total, snapshot counter, help)
COUNTERS = (
    ('dbpool_checkouts', stats.CHECKOUTS, 'Checkouts asked for.'),
    ('dbpool_checkouts_waited', stats.CHECKOUTS_WAITED,
     'Checkouts that waited for a connection and got one.'),
    ('dbpool_checkout_timeouts', stats.CHECKOUT_TIMEOUTS,
     'Checkouts that waited POOL_TIMEOUT and raised PoolTimeout.'),
    ('dbpool_connections_created', stats.CONNECTIONS_CREATED,
     'Physical connections opened.'),
    ('dbpool_connect_failures', stats.CONNECT_FAILURES,
     'Attempts to open a connection that failed.'),
    ('dbpool_health_checks', stats.HEALTH_CHECKS, 'Pings of idle connections at checkout.'),
    ('dbpool_resets', stats.RESETS, 'Returns that sent the reset.'),
    ('dbpool_resets_skipped', stats.RESETS_SKIPPED,
     'Returns whose session was provably clean: nothing sent.'),
    ('dbpool_leaks_reported', stats.LEAKS_REPORTED,
     'Checkouts held longer than LEAK_TIMEOUT.'),
)

# (metric name, snapshot histogram, snapshot sum in ms, help)
HISTOGRAMS = (
    ('dbpool_wait_seconds', stats.WAIT_MS_HISTOGRAM, stats.WAIT_MS_TOTAL,
     'Time a checkout waited for a connection (0 when one was free).'),
    ('dbpool_use_seconds', stats.USE_MS_HISTOGRAM, stats.USE_MS_TOTAL,
     'Time from checkout to checkin (or discard).'),
    ('dbpool_connect_seconds', stats.CONNECT_MS_HISTOGRAM, stats.CONNECT_MS_TOTAL,
     'Time a new connection took to open.'),
)

# The bucket bounds as "le" label values, in seconds, spelt as the client
# library spells its own ('0.0', '0.005', '10.0').
_LE = [floatToGoString(bound / 1000.0) for bound in stats.HISTOGRAM_BOUNDS_MS] + ['+Inf']


class PoolCollector(object):
    """Yields the metric families of every pool ``pools()`` returns, at each scrape."""

    def __init__(self, pools=None):
        self._pools = pools or pools_of_process.all_pools

    def collect(self):
        """The metric families, read from one snapshot per pool."""
        snapshots = [(self._labels(pool), pool.stats()) for pool in self._pools()
                     if not pool.closed]
        connections = GaugeMetricFamily('dbpool_connections', 'Pooled connections by state.',
                                        labels=LABELS + ['state'])
        gauges = [
            ('dbpool_connections_max', 'max_conns', 'MAX_CONNS: the most connections open.'),
            ('dbpool_connections_min', 'min_conns', 'MIN_CONNS: connections kept open.'),
            ('dbpool_checkouts_waiting', stats.WAITING,
             'Checkouts waiting for a connection now.'),
            ('dbpool_connections_retiring', stats.CONNECTIONS_RETIRING,
             "Connections of a replaced pool still out, counted against MAX_CONNS."),
        ]
        gauge_families = [(GaugeMetricFamily(name, help_text, labels=LABELS), key)
                          for name, key, help_text in gauges]
        counter_families = [(CounterMetricFamily(name, help_text, labels=LABELS), key)
                            for name, key, help_text in COUNTERS]
        discarded = CounterMetricFamily('dbpool_discarded', 'Connections closed, by reason.',
                                        labels=LABELS + ['reason'])
        histogram_families = [(HistogramMetricFamily(name, help_text, labels=LABELS), key, total)
                              for name, key, total, help_text in HISTOGRAMS]
        for labels, snapshot in snapshots:
            for state, key in (('idle', stats.CONNECTIONS_IDLE), ('used', stats.CONNECTIONS_IN_USE),
                               ('opening', stats.CONNECTIONS_OPENING)):
                connections.add_metric(labels + [state], snapshot[key])
            for family, key in gauge_families + counter_families:
                family.add_metric(labels, snapshot[key])
            for reason in stats.DISCARD_REASONS:
                discarded.add_metric(labels + [reason], snapshot['discarded_' + reason])
            for family, key, total in histogram_families:
                family.add_metric(labels, list(zip(_LE, snapshot[key])),
                                  sum_value=snapshot[total] / 1000.0)
        yield connections
        for family, _ in gauge_families + counter_families:
            yield family
        yield discarded
        for family, _, _ in histogram_families:
            yield family

    @staticmethod
    def _labels(pool):
        return [pool.label or '', pool.name]


def register(registry=None, pools=None):
    """Add a PoolCollector to ``registry`` (default: prometheus_client.REGISTRY); returns it."""
    if registry is None:
        from prometheus_client import REGISTRY as registry
    collector = PoolCollector(pools)
    registry.register(collector)
    return collector
