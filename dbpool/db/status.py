"""What ``manage.py dbpool_status`` reports, as a dict and as text.

Pools live inside each process. The command runs in a process of its own,
so for a web server's pools it shows what every process can see: the
settings, and the server's count of this database's sessions by
application_name and state. Called inside a running process
(``call_command('dbpool_status')`` from a view or a shell), it also shows
that process's pools.
"""
from __future__ import absolute_import, division, print_function

import os

from django.conf import settings

from dbpool import registry, stats
from dbpool.db import engines, probe
from dbpool.options import parse_pool_options

# Not reported: they may name objects, not values.
_UNREPORTED_OPTIONS = ('stats_callback', 'credentials')


def _reportable(value):
    # JSON has no sets: TRUSTED_FUNCTIONS is shown as a sorted list.
    return sorted(value) if isinstance(value, frozenset) else value


def collect(aliases=None, server=True):
    """The report: one dict per pooled alias of settings.DATABASES."""
    databases = settings.DATABASES
    chosen = engines.pooled_aliases(databases)
    if aliases:
        chosen = [alias for alias in chosen if alias in aliases]
    stats_by_alias = {}
    for snapshot in registry.pool_stats():
        stats_by_alias.setdefault(snapshot['alias'], []).append(snapshot)
    return {
        'pid': os.getpid(),
        'aliases': [_alias_report(alias, databases[alias], stats_by_alias.get(alias, []), server)
                    for alias in chosen],
    }


def _alias_report(alias, settings_dict, pools, server):
    report = {
        'alias': alias,
        'engine': settings_dict.get('ENGINE'),
        'target': '%s@%s:%s/%s' % (settings_dict.get('USER') or '',
                                   settings_dict.get('HOST') or 'local socket',
                                   settings_dict.get('PORT') or '5432',
                                   settings_dict.get('NAME') or ''),
        'pools': pools,
    }
    try:
        options = parse_pool_options(settings_dict.get('OPTIONS') or {},
                                     "DATABASES['%s']['OPTIONS']" % alias)
        report['options'] = dict((name.upper(), _reportable(getattr(options, name)))
                                 for name in options.__slots__
                                 if name not in _UNREPORTED_OPTIONS)
    except ValueError as exc:
        report['options_error'] = str(exc)
    if server:
        try:
            report['server'] = probe.server_facts(alias)
        except Exception as exc:  # a report, not a health check: say it and go on
            report['server_error'] = '%s: %s' % (type(exc).__name__, exc)
    return report


# The distributions the text shows, with what each one counts.
_TIMES = ((stats.WAIT_MS_HISTOGRAM, stats.WAIT_MS_COUNT, 'checkouts'),
          (stats.USE_MS_HISTOGRAM, stats.USE_MS_COUNT, 'returns'),
          (stats.CONNECT_MS_HISTOGRAM, stats.CONNECT_MS_COUNT, 'connects'))
_PERCENTILES = ((50, 0.5), (90, 0.9), (99, 0.99))


def _percentile_text(pool, key, count_key, what):
    # "wait p50 0 ms, p90 0.4 ms, p99 37.5 ms (1200 checkouts)", estimated from the buckets.
    name = key.split('_')[0]
    histogram = pool.get(key)
    if not histogram or not pool.get(count_key):
        return '%s: none yet' % name
    last = stats.HISTOGRAM_BOUNDS_MS[-1]
    parts = []
    for label, fraction in _PERCENTILES:
        value = stats.percentile_ms(histogram, fraction)
        parts.append('p%d %s%s ms' % (label, '>=' if value >= last else '',
                                      ('%.1f' % value).rstrip('0').rstrip('.')))
    return '%s %s (%d %s)' % (name, ', '.join(parts), pool[count_key], what)


def format_text(report):
    """The report as lines for a terminal."""
    lines = []
    if not report['aliases']:
        lines.append('No DATABASES alias uses a dbpool ENGINE.')
    for alias in report['aliases']:
        lines.extend(_alias_lines(alias, report['pid']))
    return '\n'.join(lines)


def _alias_lines(alias, pid):
    lines = ["%s: %s (%s)" % (alias['alias'], alias['target'], alias['engine'])]
    if 'options' in alias:
        lines.append('  settings: ' + ', '.join(
            '%s=%s' % (key, alias['options'][key]) for key in sorted(alias['options'])))
    else:
        lines.append('  settings: INVALID: %s' % alias['options_error'])
    if not alias['pools']:
        lines.append('  this process (pid %d): no pool yet (each process has its own pools; '
                     'see docs/observability.md)' % pid)
    for pool in alias['pools']:
        lines.append('  this process (pid %d): %d open (%d in use, %d idle, %d opening), '
                     '%d waiting, MAX_CONNS=%d' % (
                         pid, pool['connections_open'], pool['connections_in_use'],
                         pool['connections_idle'], pool['connections_opening'],
                         pool['waiting'], pool['max_conns']))
        counters = ', '.join('%s=%s' % (key, pool[key]) for key in sorted(pool)
                             if isinstance(pool[key], (int, float)) and pool[key]
                             and not isinstance(pool[key], bool)
                             and not key.startswith('connections_')
                             and key not in ('max_conns', 'min_conns', 'waiting'))
        lines.append('    counters: %s' % (counters or 'all zero'))
        lines.append('    times: %s' % '; '.join(_percentile_text(pool, key, count_key, what)
                                            for key, count_key, what in _TIMES))
    if 'server' in alias:
        facts = alias['server']
        lines.append('  server: PostgreSQL %s, max_connections=%d (%d reserved for superusers)'
                     % (facts['server_version'], facts['max_connections'],
                        facts['superuser_reserved_connections']))
        total = sum(row['count'] for row in facts['sessions'])
        lines.append('  sessions on database %s (other than this one): %d'
                     % (facts['database'], total))
        for row in facts['sessions']:
            lines.append('    %-30s %-20s %d' % (row['application_name'] or '(none)',
                                                 row['state'] or '(none)', row['count']))
    elif 'server_error' in alias:
        lines.append('  server: not reachable: %s' % alias['server_error'])
    return lines
