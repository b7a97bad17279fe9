"""Turn compare.py's rounds into the summary, the table and the verdict on each target."""
from __future__ import absolute_import, division, print_function

from modes import (BY_NAME, GEVENT_SCENARIOS, OURS, PAGE_SCENARIOS, SCENARIOS, SLOW_PAUSE_S,
                   SLOW_SCENARIOS, TRANSACTION_SCOPE, baseline_for, request_scope_for)

LOAD = [alias for alias, _, _ in SCENARIOS]
SCENARIO_LABELS = dict(
    (alias, ('gevent %dg/%dc' if alias in GEVENT_SCENARIOS else
             'page %dt/%dc' if alias in PAGE_SCENARIOS else
             'slow %dt/%dc' if alias in SLOW_SCENARIOS else '%dt/%dc') % (threads, conns))
    for alias, threads, conns in SCENARIOS)
SCENARIO_LABELS['micro'] = 'micro'
MAX_CONNS_32 = 8
SLOW_CONNS = dict((alias, conns) for alias, _, conns in SCENARIOS)['slow']
# The targets of the issue on RESET_ON_RETURN (issue 13) are for these
# families; transaction scope has its own (issue 15), against request scope.
RESET_FAMILIES = tuple(family for family in OURS if family != TRANSACTION_SCOPE)
# Transaction scope: each scenario >= 0.95x request scope's requests/s (the
# micro cycle at most 1/0.95 of its time); the slow view >= 3x request scope
# and >= 0.9x stock persistent.
SCOPE_LIMIT = 0.95
SLOW_VS_REQUEST_SCOPE = 3.0
SLOW_VS_PERSISTENT = 0.90


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
        # Threads with at least one 1 s window without a request done, in
        # the worst round.
        'starved_threads': max(r.get('starved_threads', 0) for r in runs),
        'threads': max(r['threads'] for r in runs),
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
        if entry['family'] == TRANSACTION_SCOPE:
            _add_scope_ratios(entry, summary.get(request_scope_for(BY_NAME[name]).name))
    return summary


def _add_scope_ratios(entry, default):
    """Transaction scope over request scope (the default), same driver: ``scope_ratio``.

    requests/s over requests/s for the load; for the micro cycle, time over
    time (lower is better), as its other ratios.
    """
    if not default:
        return
    for alias in LOAD:
        if alias in entry and alias in default:
            entry[alias]['scope_ratio'] = (entry[alias]['requests_per_s']
                                           / default[alias]['requests_per_s'])
    if 'micro' in entry and 'micro' in default:
        entry['micro']['scope_ratio'] = (entry['micro']['us_per_cycle']
                                         / default['micro']['us_per_cycle'])


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
        if entry['family'] == TRANSACTION_SCOPE:
            targets.extend(_scope_targets(summary, name, entry))
        if entry['family'] not in RESET_FAMILIES:
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


def _scope_targets(summary, name, entry):
    """The targets of transaction scope (issue 15) for one of its modes."""
    targets = []
    default_name = request_scope_for(BY_NAME[name]).name
    for alias in LOAD:
        r = entry.get(alias)
        if not r or 'scope_ratio' not in r or alias in SLOW_SCENARIOS:
            continue
        targets.append(_target('%s vs request scope' % SCENARIO_LABELS[alias], name,
                               '>= %.2fx request scope (%s)' % (SCOPE_LIMIT, default_name),
                               r['scope_ratio'], SCOPE_LIMIT, r['scope_ratio'] >= SCOPE_LIMIT,
                               'x'))
    micro = entry.get('micro')
    if micro and 'scope_ratio' in micro:
        limit = 1.0 / SCOPE_LIMIT
        targets.append(_target('micro vs request scope', name,
                               '<= %.2fx request scope cycle (%s)' % (limit, default_name),
                               micro['scope_ratio'], limit, micro['scope_ratio'] <= limit, 'x'))
    slow = entry.get('slow')
    if not slow:
        return targets
    label = SCENARIO_LABELS['slow']
    base = summary.get(baseline_for(BY_NAME[name]).name)
    if base and 'slow' in base:
        ratio = slow['requests_per_s'] / base['slow']['requests_per_s']
        targets.append(_target('%s vs stock persistent' % label, name,
                               '>= %.2fx stock persistent (same driver)' % SLOW_VS_PERSISTENT,
                               ratio, SLOW_VS_PERSISTENT, ratio >= SLOW_VS_PERSISTENT, 'x'))
    if 'scope_ratio' in slow:
        targets.append(_target('%s vs request scope' % label, name,
                               '>= %.1fx request scope (%s)' % (SLOW_VS_REQUEST_SCOPE,
                                                                 default_name),
                               slow['scope_ratio'], SLOW_VS_REQUEST_SCOPE,
                               slow['scope_ratio'] >= SLOW_VS_REQUEST_SCOPE, 'x'))
    targets.append(_target('%s no errors' % label, name, 'every request answered 200',
                           slow['errors'], 0, slow['errors'] == 0, ' errors'))
    targets.append(_target('%s no thread starved' % label, name,
                           'every thread completes requests in every 1 s window',
                           slow['starved_threads'], 0, slow['starved_threads'] == 0,
                           ' threads'))
    targets.append(_target('%s server connections' % label, name,
                           '<= %d server connections' % SLOW_CONNS, slow['peak_connections'],
                           SLOW_CONNS, slow['peak_connections'] <= SLOW_CONNS))
    return targets


# -- Text -------------------------------------------------------------------------

def _fmt(value, digits=1):
    return '-' if value is None else '%.*f' % (digits, value)


def _ordered(summary):
    order = ['stock0', 'persistent', 'djpool', 'djdbconnpool', 'pgpool2', 'geventpool'] + list(OURS)
    return sorted(summary.items(), key=lambda item: (item[1]['driver'] != 'psycopg3',
                                                     order.index(item[1]['family'])))


def table_lines(data):
    """The results as Markdown tables: the load scenarios, the micro-benchmark, the slow
    view, transaction scope against request scope."""
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
    lines += micro_lines(summary)
    lines += slow_lines(summary)
    lines += scope_lines(summary)
    if meta.get('skipped'):
        lines += ['', 'Skipped: %s.' % '; '.join(meta['skipped'])]
    return lines


def micro_lines(summary):
    """The micro-benchmark's table (nothing when no mode ran it)."""
    rows = [entry for _, entry in _ordered(summary) if entry.get('micro')]
    if not rows:
        return []
    lines = ['', 'Micro: one borrow + SELECT 1 + return (close_if_unusable_or_obsolete), '
             'microseconds per cycle: wall time (best batch of each round, median of '
             'rounds) and the CPU time of the calling thread (mean, median of rounds); '
             'ratios over stock persistent, same driver (lower is better).', '',
             '| mode | driver | us/cycle | ratio | CPU us/cycle | CPU ratio |',
             '|---|---|---:|---:|---:|---:|']
    for entry in rows:
        m = entry['micro']
        lines.append('| %s | %s | %.1f | %s | %.1f | %s |' % (
            entry['label'], entry['driver'], m['us_per_cycle'], _fmt(m.get('ratio'), 3),
            m['cpu_us_per_cycle'], _fmt(m.get('cpu_ratio'), 3)))
    return lines


def slow_lines(summary):
    """The slow view (a query, a pause, a query) for every mode: its own table."""
    rows = [(name, entry) for name, entry in _ordered(summary) if 'slow' in entry]
    if not rows:
        return []
    lines = ['', 'Slow view, %s: each request a query, a %.0f ms pause outside the database '
             '(the GIL released), a query; pools capped at %d connections, stock Django '
             'one per thread. Starved threads: threads with a 1 s window without a request '
             'done (worst round); x persistent: requests/s over stock persistent, x request '
             'scope: transaction scope over dbpool\'s default, same driver.'
             % (SCENARIO_LABELS['slow'], SLOW_PAUSE_S * 1e3, SLOW_CONNS), '',
             '| mode | driver | req/s | x persistent | x request scope | errors '
             '| starved threads | peak conns | p50 ms | p99 ms |',
             '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|']
    for name, entry in rows:
        r = entry['slow']
        lines.append('| %s | %s | %.0f | %s | %s | %d | %d/%d | %d | %.1f | %.1f |' % (
            entry['label'], entry['driver'], r['requests_per_s'], _fmt(r.get('ratio'), 2),
            _fmt(r.get('scope_ratio'), 2), r['errors'], r['starved_threads'], r['threads'],
            r['peak_connections'], r['p50_ms'], r['p99_ms']))
    return lines


def scope_lines(summary):
    """Transaction scope against request scope (the default), per scenario and driver."""
    rows = []
    for name, entry in _ordered(summary):
        if entry['family'] != TRANSACTION_SCOPE:
            continue
        default = summary.get(request_scope_for(BY_NAME[name]).name)
        for alias in LOAD + ['micro']:
            r = entry.get(alias)
            if not r or 'scope_ratio' not in r:
                continue
            metric = 'us_per_cycle' if alias == 'micro' else 'requests_per_s'
            limit = ('<= %.2f' % (1.0 / SCOPE_LIMIT) if alias == 'micro' else
                     '>= %.2f' % (SLOW_VS_REQUEST_SCOPE if alias in SLOW_SCENARIOS
                                  else SCOPE_LIMIT))
            rows.append('| %s | %s | %.1f | %.1f | %.2f | %s |' % (
                SCENARIO_LABELS[alias], entry['driver'], default[alias][metric], r[metric],
                r['scope_ratio'], limit))
    if not rows:
        return []
    return ['', "Transaction scope against request scope (dbpool's default), same driver and "
            'worker kind: requests/s (micro: us per cycle, lower is better) and their ratio.',
            '', '| scenario | driver | request scope | transaction scope | ratio | target |',
            '|---|---|---:|---:|---:|---|'] + rows


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
        lines.append('  %-6s %-20s %-34s %s: %s' % ('MET' if t['met'] else 'MISSED', t['mode'],
                                                    t['target'], t['text'], shown))
    return lines
