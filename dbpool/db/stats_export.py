"""OPTIONS['STATS_CALLBACK'] given as a dotted path: imported here, not in the core."""
from __future__ import absolute_import, division, print_function

from dbpool.db.dotted import resolve_callable


def resolve_stats_callback(options, where):
    """Replace a dotted-path STATS_CALLBACK in parsed ``options`` by what it names."""
    options.stats_callback = resolve_callable(
        'STATS_CALLBACK', options.stats_callback, where, 'a function taking (alias, stats)')
    return options
