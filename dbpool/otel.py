"""The pools' metrics through OpenTelemetry, as its conventions for connection pools name them.

Call ``instrument()`` once per process, after the OpenTelemetry SDK is set
up (in each worker, for a prefork server). It needs ``opentelemetry-api``
only (``pip install django-db-pool[otel]``); the SDK and exporter are the
application's choice. The names, units and attributes follow the semantic
conventions for database client connection pools, v1.44.0
(status "development"; these names since v1.27.0, the metrics renamed from
``db.client.connections.*`` in v1.26.0 and their attributes in v1.27.0):

- gauges read from every pool's snapshot at each collection:
  ``db.client.connection.count`` (``db.client.connection.state`` idle or
  used), ``.idle.max``, ``.idle.min``, ``.max``, ``.pending_requests``;
- fed by the pool as things happen (dbpool.stats listeners):
  ``db.client.connection.timeouts`` and the histograms, in seconds,
  ``.create_time``, ``.wait_time`` and ``.use_time``.

Every point carries ``db.client.connection.pool.name``: the pool's Django
alias (its label), or its name for a pool made outside Django without one.
"""
from __future__ import absolute_import, division, print_function

import threading

from dbpool import __version__, registry, stats

try:
    from opentelemetry import metrics
    from opentelemetry.metrics import Observation
except ImportError as exc:  # pragma: no cover - the cells without it never import us
    raise ImportError('dbpool.otel needs opentelemetry-api (pip install '
                      'django-db-pool[otel]): %s' % exc)

__all__ = ['instrument', 'uninstrument', 'Instrumentation']

SCHEMA_URL = 'https://opentelemetry.io/schemas/1.44.0'
POOL_NAME = 'db.client.connection.pool.name'
STATE = 'db.client.connection.state'
STATE_IDLE = 'idle'
STATE_USED = 'used'
# The histograms' bucket bounds: the core's, in seconds (the SDK's default
# bounds are made for milliseconds). Only advice: a View may override them.
BOUNDS_S = [bound / 1000.0 for bound in stats.HISTOGRAM_BOUNDS_MS]

_lock = threading.Lock()
_current = None


def instrument(meter_provider=None, pools=None):
    """Report the pools' metrics to ``meter_provider`` (default: the global one).

    ``pools`` is a callable returning the pools to observe, by default every
    pool of this process (dbpool.registry), including pools made later.
    Calling it again replaces the previous instrumentation. Returns the
    Instrumentation; ``uninstrument()`` stops it.
    """
    global _current
    made = Instrumentation(metrics.get_meter('dbpool', __version__, meter_provider=meter_provider,
                                             schema_url=SCHEMA_URL),
                           pools or registry.all_pools)
    with _lock:
        previous, _current = _current, made
    if previous is not None:
        previous.stop()
    return made


def uninstrument():
    """Stop reporting (what instrument() started); nothing happens if it was not."""
    global _current
    with _lock:
        previous, _current = _current, None
    if previous is not None:
        previous.stop()


class Instrumentation(object):
    """The instruments made on one meter, and the listener that feeds the histograms."""

    def __init__(self, meter, pools):
        self._pools = pools
        self.active = True
        gauges = (
            ('db.client.connection.count', '{connection}',
             'The number of connections that are currently in state described by the state '
             'attribute.', self._count),
            ('db.client.connection.idle.max', '{connection}',
             'The maximum number of idle open connections allowed (MAX_CONNS).',
             self._reading('max_conns')),
            ('db.client.connection.idle.min', '{connection}',
             'The minimum number of idle open connections allowed (MIN_CONNS).',
             self._reading('min_conns')),
            ('db.client.connection.max', '{connection}',
             'The maximum number of open connections allowed (MAX_CONNS).',
             self._reading('max_conns')),
            ('db.client.connection.pending_requests', '{request}',
             'The number of current pending requests for an open connection.',
             self._reading(stats.WAITING)),
        )
        for name, unit, description, callback in gauges:
            meter.create_observable_up_down_counter(name, callbacks=[callback], unit=unit,
                                                    description=description)
        self._timeouts = meter.create_counter(
            'db.client.connection.timeouts', unit='{timeout}',
            description='The number of connection timeouts that have occurred trying to '
                        'obtain a connection from the pool.')
        self._histograms = {
            stats.EVENT_CONNECT: _histogram(meter, 'db.client.connection.create_time',
                                            'The time it took to create a new connection.'),
            stats.EVENT_WAIT: _histogram(meter, 'db.client.connection.wait_time',
                                         'The time it took to obtain an open connection from '
                                         'the pool.'),
            stats.EVENT_USE: _histogram(meter, 'db.client.connection.use_time',
                                        'The time between borrowing a connection and '
                                        'returning it to the pool.'),
        }
        stats.add_listener(self._on_event)

    def stop(self):
        """Report nothing more (observable instruments cannot be removed: they go quiet)."""
        self.active = False
        stats.remove_listener(self._on_event)

    # -- Fed by the pools -------------------------------------------------------

    def _on_event(self, pool, event, seconds):
        attributes = {POOL_NAME: pool_name(pool)}
        if event == stats.EVENT_TIMEOUT:
            self._timeouts.add(1, attributes)
            return
        histogram = self._histograms.get(event)
        if histogram is not None:
            histogram.record(seconds, attributes)

    # -- Read at each collection -------------------------------------------------

    def _snapshots(self):
        if not self.active:
            return []
        return [(pool_name(pool), pool.stats()) for pool in self._pools() if not pool.closed]

    def _count(self, options=None):
        observations = []
        for name, snapshot in self._snapshots():
            observations.append(Observation(snapshot[stats.CONNECTIONS_IDLE],
                                            {POOL_NAME: name, STATE: STATE_IDLE}))
            observations.append(Observation(snapshot[stats.CONNECTIONS_IN_USE],
                                            {POOL_NAME: name, STATE: STATE_USED}))
        return observations

    def _reading(self, key):
        def observe(options=None):
            return [Observation(snapshot[key], {POOL_NAME: name})
                    for name, snapshot in self._snapshots()]
        return observe


def pool_name(pool):
    """The value of db.client.connection.pool.name for ``pool``."""
    return pool.label or pool.name


def _histogram(meter, name, description):
    try:
        return meter.create_histogram(name, unit='s', description=description,
                                      explicit_bucket_boundaries_advisory=BOUNDS_S)
    except TypeError:  # opentelemetry-api before 1.30 takes no advice on bounds
        return meter.create_histogram(name, unit='s', description=description)
