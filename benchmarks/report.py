"""Turn compare.py's rounds into the summary, the table and the verdict on each target."""
from __future__ import absolute_import, division, print_function

from modes import BY_NAME, GEVENT_SCENARIOS, OURS, PAGE_SCENARIOS, SCENARIOS, baseline_for

LOAD = [alias for alias, _, _ in SCENARIOS]
SCENARIO_LABELS = dict(
    (alias, ('gevent %dg/%dc' if alias in GEVENT_SCENARIOS else
             'page %dt/%dc' if alias in PAGE_SCENARIOS else '%dt/%dc') % (threads, conns))
    for alias, threads, conns in SCENARIOS)
SCENARIO_LABELS['micro'] = 'micro'
MAX_CONNS_32 = 8


def median(values):
    values = sorted(values)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2.0


def round_line(result):
    """One line per worker run, printed as the rounds go."""
    parts = []
    for alias in LOAD:
        if alias in result:
            r = result[alias]
            parts.append('%s %6.0f/s p99 %5.1f ms' % (SCENARIO_LABELS[alias],
                                                      r['requests_per_s'], r['p99_ms']))
    if 'micro' in result:
        parts.append('micro %6.1f us' % result['micro']['us_per_cycle'])
    return ' | '.join(parts)


def _load_summary(runs):
    return {
        'requests_per_s': median([r['requests_per_s'] for r in runs]),
        'requests_per_s_rounds': [round(r['requests_per_s'], 1) for r in runs],
        'p50_ms': median([r['p50_ms'] for r in runs]),
        'p99_ms': median([r['p99_ms'] for r in runs]),
        'max_ms': max(r['max_ms'] for r in runs),
        'starved_thread_windows': sum(r['starved_thread_windows'] for r in runs),
        'thread_windows': sum(r['threads'] * r['windows'] for r in runs),
        'peak_connections': max(r.get('peak_connections', 0) for r in runs),
        'errors': sum(r['errors'] for r in runs),
        'requests': sum(r['requests'] for r in runs),
        'cpu_us_per_request': median([r['cpu_us_per_request'] for r in runs
                                      if r.get('cpu_us_per_request') is not None]),
    }


def summarise(modes, rounds):
    """Per mode and scenario: medians over rounds (max and sums where that is the point)."""
    summary = {}
    for mode in modes:
        runs = rounds[mode.name]
        entry = {'label': mode.label, 'driver': mode.driver, 'family': mode.family}
        for alias in LOAD:
            scenario_runs = [run[alias] for run in runs if alias in run]
            if scenario_runs:
                entry[alias] = _load_summary(scenario_runs)
        micro = [run['micro']['us_per_cycle'] for run in runs if 'micro' in run]
        if micro:
            cpu = [run['micro']['cpu_us_per_cycle'] for run in runs if 'micro' in run]
            entry['micro'] = {'us_per_cycle': median(micro),
                              'us_per_cycle_rounds': [round(us, 1) for us in micro],
                              'cpu_us_per_cycle': median(cpu)}
        summary[mode.name] = entry
    for name, entry in summary.items():
        base = summary.get(baseline_for(BY_NAME[name]).name)
        for alias in LOAD:
            if alias in entry and base and alias in base:
                entry[alias]['ratio'] = entry[alias]['requests_per_s'] / base[alias]['requests_per_s']
        if 'micro' in entry and base and 'micro' in base:
            entry['micro']['ratio'] = entry['micro']['us_per_cycle'] / base['micro']['us_per_cycle']
            entry['micro']['cpu_ratio'] = (entry['micro']['cpu_us_per_cycle']
                                           / base['micro']['cpu_us_per_cycle'])
    return summary


# -- Targets ----------------------------------------------------------------------

def _target(name, mode, text, value, limit, met, unit=''):
    return {'mode': mode, 'target': name, 'text': text, 'value': value, 'limit': limit,
            'met': met, 'unit': unit}


def _find(summary, family, driver):
    for name, entry in summary.items():
        if entry['family'] == family and entry['driver'] == driver:
            return name, entry
    return None, None


def _other_pools(summary, driver):
    return [(name, entry) for name, entry in summary.items()
            if entry['driver'] == driver and entry['family'] in
            ('djpool', 'djdbconnpool', 'pgpool2', 'geventpool')]


def _best_other_pool(summary, driver, scenario, metric, best_of):
    """(mode, figure) of the other pool on ``driver`` that ``best_of`` (max or min) picks."""
    others = [(other, entry[scenario][metric])
              for other, entry in _other_pools(summary, driver) if scenario in entry]
    if not others:
        return None, None
    return best_of(others, key=lambda item: item[1])


def check_targets(summary):
    """Every target of the issue, for each of our modes in the run: value, limit, met."""
    targets = []
    for name, entry in sorted(summary.items()):
        if entry['family'] not in OURS:
            continue
        driver = entry['driver']
        _, base = _find(summary, 'persistent', driver)
        _, stock0 = _find(summary, 'stock0', driver)
        # Django's own pool exists on psycopg 3 only: both drivers of ours face it.
        _, djpool = _find(summary, 'djpool', 'psycopg3')
        s8, s32, micro = entry.get('s8'), entry.get('s32'), entry.get('micro')
        for alias, limit in (('s1', 0.97), ('s8', 0.97), ('page', 0.99)):
            if entry.get(alias) and base and alias in base:
                ratio = entry[alias]['requests_per_s'] / base[alias]['requests_per_s']
                targets.append(_target('%s vs stock persistent' % SCENARIO_LABELS[alias], name,
                                       '>= %.2fx stock persistent (same driver)' % limit,
                                       ratio, limit, ratio >= limit, 'x'))
        if s8 and stock0 and 's8' in stock0:
            ratio = s8['requests_per_s'] / stock0['s8']['requests_per_s']
            targets.append(_target('8t/8c vs CONN_MAX_AGE=0', name,
                                   '>= 8x stock CONN_MAX_AGE=0 (same driver)', ratio, 8.0,
                                   ratio >= 8.0, 'x'))
        if s32:
            starved = s32['starved_thread_windows']
            targets.append(_target('32t/8c no thread starved', name,
                                   'every thread completes requests in every 1 s window',
                                   starved, 0, starved == 0, ' thread-windows'))
            targets.append(_target('32t/8c server connections', name, '<= 8 server connections',
                                   s32['peak_connections'], MAX_CONNS_32,
                                   s32['peak_connections'] <= MAX_CONNS_32))
            if djpool and 's32' in djpool:
                limit = djpool['s32']['p99_ms']
                targets.append(_target('32t/8c p99 vs Django pool', name,
                                       "p99 <= Django's pool's p99", s32['p99_ms'], limit,
                                       s32['p99_ms'] <= limit, ' ms'))
            best_name, best = _best_other_pool(summary, driver, 's32', 'requests_per_s', max)
            if best_name:
                targets.append(_target('32t/8c ahead of other pools', name,
                                       'req/s above every other pool (same driver; best: %s)'
                                       % best_name, s32['requests_per_s'], best,
                                       s32['requests_per_s'] > best, ' req/s'))
        g100 = entry.get('g100')
        if g100:
            label = SCENARIO_LABELS['g100']
            starved = g100['starved_thread_windows']
            targets.append(_target('%s no greenlet starved' % label, name,
                                   'every greenlet completes requests in every 1 s window',
                                   starved, 0, starved == 0, ' greenlet-windows'))
            targets.append(_target('%s server connections' % label, name,
                                   '<= 8 server connections', g100['peak_connections'],
                                   MAX_CONNS_32, g100['peak_connections'] <= MAX_CONNS_32))
            best_name, best = _best_other_pool(summary, driver, 'g100', 'requests_per_s', max)
            if best_name:
                targets.append(_target('%s ahead of django-db-geventpool' % label, name,
                                       'req/s above django-db-geventpool (same driver)',
                                       g100['requests_per_s'], best,
                                       g100['requests_per_s'] > best, ' req/s'))
        if micro and base and 'micro' in base:
            ratio = micro['us_per_cycle'] / base['micro']['us_per_cycle']
            targets.append(_target('micro vs stock persistent', name,
                                   '<= 1.10x stock persistent cycle (same driver)', ratio, 1.10,
                                   ratio <= 1.10, 'x'))
            best_name, best = _best_other_pool(summary, driver, 'micro', 'us_per_cycle', min)
            if best_name:
                targets.append(_target('micro ahead of other pools', name,
                                       'cycle faster than every other pool (same driver; '
                                       'best: %s)' % best_name, micro['us_per_cycle'], best,
                                       micro['us_per_cycle'] < best, ' us'))
    return targets


# -- Text -------------------------------------------------------------------------

def _fmt(value, digits=1):
    return '-' if value is None else '%.*f' % (digits, value)


def _ordered(summary):
    order = ['stock0', 'persistent', 'djpool', 'djdbconnpool', 'pgpool2', 'geventpool'] + list(OURS)
    return sorted(summary.items(), key=lambda item: (item[1]['driver'] != 'psycopg3',
                                                     order.index(item[1]['family'])))


def table_lines(data):
    """The results as Markdown tables: the load scenarios, then the micro-benchmark."""
    summary, meta = data['summary'], data['meta']
    lines = ['Load: requests/s (median of %d rounds of %.0f s), latency p50/p99 (median of '
             'rounds) and max, starved thread-windows (1 s windows with no request done), '
             'peak server connections; ratio: requests/s over stock persistent, same driver; '
             'CPU: the worker process\'s CPU time per request done (median of rounds).'
             % (meta['rounds'], meta['seconds']), '',
             '| scenario | mode | driver | req/s | ratio | p50 ms | p99 ms | max ms | starved '
             '| peak conns | CPU us/req |',
             '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|']
    for alias in LOAD:
        for name, entry in _ordered(summary):
            r = entry.get(alias)
            if not r:
                continue
            lines.append('| %s | %s | %s | %.0f | %s | %.2f | %.2f | %.1f | %d/%d | %d | %s |%s'
                         % (SCENARIO_LABELS[alias], entry['label'], entry['driver'],
                            r['requests_per_s'], _fmt(r.get('ratio'), 2), r['p50_ms'],
                            r['p99_ms'], r['max_ms'], r['starved_thread_windows'],
                            r['thread_windows'], r['peak_connections'],
                            _fmt(r.get('cpu_us_per_request'), 0),
                            ' %d errors' % r['errors'] if r['errors'] else ''))
    lines += ['', 'Micro: one borrow + SELECT 1 + return (close_if_unusable_or_obsolete), '
              'microseconds per cycle: wall time (best batch of each round, median of '
              'rounds) and the CPU time of the calling thread (mean, median of rounds); '
              'ratios over stock persistent, same driver (lower is better).', '',
              '| mode | driver | us/cycle | ratio | CPU us/cycle | CPU ratio |',
              '|---|---|---:|---:|---:|---:|']
    for name, entry in _ordered(summary):
        m = entry.get('micro')
        if m:
            lines.append('| %s | %s | %.1f | %s | %.1f | %s |' % (
                entry['label'], entry['driver'], m['us_per_cycle'], _fmt(m.get('ratio'), 3),
                m['cpu_us_per_cycle'], _fmt(m.get('cpu_ratio'), 3)))
    return lines


def target_lines(targets):
    """The verdict, one line per target."""
    lines = ['Targets:']
    for t in targets:
        value, limit = t['value'], t['limit']
        if t['unit'] == 'x':
            shown = '%.3fx (limit %.2fx)' % (value, limit)
        elif isinstance(value, float):
            shown = '%.2f%s (limit %.2f%s, %+.1f%%)' % (value, t['unit'], limit, t['unit'],
                                                       100.0 * (value - limit) / limit
                                                       if limit else 0.0)
        else:
            shown = '%s%s (limit %s)' % (value, t['unit'], limit)
        lines.append('  %-6s %-20s %-28s %s: %s' % ('MET' if t['met'] else 'MISSED', t['mode'],
                                                    t['target'], t['text'], shown))
    return lines
