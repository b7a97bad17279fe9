#!/usr/bin/env python
"""Turn run.py --json files into the Markdown tables of djangosuite/README.md.

    python djangosuite/summarize.py RESULTS_DIR/*.json
    python djangosuite/summarize.py --compact RESULTS_DIR/*.json   # module x configuration
"""
from __future__ import absolute_import, division, print_function

import io
import json
import sys


def load(paths):
    results = []
    for path in paths:
        with io.open(path, encoding='utf-8') as f:
            results.append(json.load(f))
    return results


def minutes(seconds):
    seconds = int(round(seconds))
    return '%d min %02d s' % (seconds // 60, seconds % 60)


def compact(results):
    """One row per module, one column per configuration: run / passed stock / passed dbpool."""
    modules = []
    for result in results:
        for row in result['rows']:
            if row['module'] not in modules:
                modules.append(row['module'])
    print('Each cell: tests run / passed with stock / passed with dbpool '
          '(differences not in the allow-list, + allowed).')
    print()
    print('| module | ' + ' | '.join('%s (Django %s, %s)' % (r['label'], r['django'], r['driver'])
                                    for r in results) + ' |')
    print('|---|' + '---:|' * len(results))
    totals = [dict(run=0, passed_stock=0, passed_dbpool=0, differences=0, allowed=0)
              for _ in results]
    for module in modules:
        cells = []
        for result, total in zip(results, totals):
            row = [r for r in result['rows'] if r['module'] == module]
            if not row:
                cells.append('-')
                continue
            row = row[0]
            for key in total:
                total[key] += row[key]
            cells.append(_cell(row))
        print('| %s | %s |' % (module, ' | '.join(cells)))
    print('| **all** | %s |' % ' | '.join('**%s**' % _cell(t) for t in totals))


def _cell(row):
    extra = ''
    if row['differences'] or row['allowed']:
        extra = ' (%d+%d)' % (row['differences'], row['allowed'])
    return '%d / %d / %d%s' % (row['run'], row['passed_stock'], row['passed_dbpool'], extra)


def main(paths):
    if paths and paths[0] == '--compact':
        results = load(paths[1:])
        compact(results)
        return 0
    results = load(paths)
    if not results:
        print('no results')
        return 1
    for revision in sorted(set(r.get('dbpool', '?') for r in results)):
        print('dbpool: %s' % revision)
        print()
    print('| configuration | Django | Python | driver | module | tests run | passed stock '
          '| passed dbpool | differences (allowed) |')
    print('|---|---|---|---|---|---:|---:|---:|---|')
    for result in results:
        total = dict(run=0, passed_stock=0, passed_dbpool=0, differences=0, allowed=0)
        for row in result['rows']:
            print('| %s | %s | %s | %s %s | %s | %d | %d | %d | %d (%d) |' % (
                result['label'], result['django'], result['python'], result['driver'],
                result['driver_version'], row['module'], row['run'], row['passed_stock'],
                row['passed_dbpool'], row['differences'], row['allowed']))
            for key in total:
                total[key] += row[key]
        print('| **%s** | | | | **all** | **%d** | **%d** | **%d** | **%d (%d)** |' % (
            result['label'], total['run'], total['passed_stock'], total['passed_dbpool'],
            total['differences'], total['allowed']))
    print()
    print('| configuration | modules | stock run | dbpool run | wall (both + setup) | result |')
    print('|---|---|---:|---:|---:|---|')
    for result in results:
        seconds = result['seconds']
        modules = result['modules']
        named = ('all %d' % len(modules) if len(modules) >= 8
                 else ' '.join(modules))
        print('| %s | %s | %s | %s | %s | %s |' % (
            result['label'], named, minutes(seconds['stock']),
            minutes(seconds['dbpool']), minutes(seconds['wall']),
            {0: 'pass', 1: 'FAIL', 2: 'ERROR'}[result['status']]))
    differences = [(r['label'], d) for r in results for d in r['differences']]
    if differences:
        print()
        print('| configuration | test | with dbpool | error / allow-list reason |')
        print('|---|---|---|---|')
        for label, diff in differences:
            detail = ('known: ' + diff['allowed']) if diff['allowed'] else diff['error']
            print('| %s | `%s` | %s | %s |' % (label, diff['test'], diff['status'],
                                             detail.replace('|', '\\|')))
    problems = [(r['label'], p) for r in results for p in r.get('problems', [])]
    for label, problem in problems:
        print('\n%s: PROBLEM: %s' % (label, problem))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
