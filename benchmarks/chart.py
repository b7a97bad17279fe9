"""The PNG chart of a compare.py run: requests/s and p99 per mode and scenario."""
from __future__ import absolute_import, division, print_function

import matplotlib

matplotlib.use('Agg')  # no display needed
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

from report import LOAD, SCENARIO_LABELS, _ordered  # noqa: E402

COLOURS = {'stock0': '#bbbbbb', 'persistent': '#777777', 'djpool': '#e69f00',
           'djdbconnpool': '#cc79a7', 'pgpool2': '#56b4e9', 'geventpool': '#f0e442',
           'dbpool': '#009e73',
           'dbpool-full': '#a6d854', 'dbpool-rollback': '#66c2a5', 'dbpool-tx': '#0072b2'}


def _bars(axis, names, values, colours, hatches, title, log=False, digits=0, labels=True):
    positions = list(range(len(names)))[::-1]
    bars = axis.barh(positions, values, color=colours, edgecolor='black', linewidth=0.4)
    for bar, hatch in zip(bars, hatches):
        bar.set_hatch(hatch)
    axis.set_yticks(positions)
    axis.set_yticklabels(names if labels else [], fontsize=8)
    axis.set_title(title, fontsize=9)
    axis.tick_params(axis='x', labelsize=7)
    if log:
        axis.set_xscale('log')
        axis.xaxis.set_minor_formatter(NullFormatter())
    for position, value in zip(positions, values):
        axis.text(value, position, ' %.*f' % (digits, value), va='center', fontsize=6)
    axis.margins(x=0.25)


def draw(data, path):
    """Write the chart of ``data`` (compare.py's JSON) to ``path``."""
    summary, meta = data['summary'], data['meta']
    ordered = _ordered(summary)
    names = ['%s (%s)' % (entry['label'], entry['driver']) for _, entry in ordered]
    colours = [COLOURS[entry['family']] for _, entry in ordered]
    hatches = ['' if entry['driver'] == 'psycopg3' else '///' for _, entry in ordered]
    micro_column = len(LOAD)
    figure, axes = plt.subplots(2, micro_column + 1, figsize=(5 + 3.6 * micro_column, 9),
                                gridspec_kw={'width_ratios': [1.6] + [1] * micro_column})
    first_names = None
    for column, alias in enumerate(LOAD):
        rows = [(name, colour, hatch, entry[alias]) for name, colour, hatch, (_, entry)
                in zip(names, colours, hatches, ordered) if alias in entry]
        if not rows:
            axes[0][column].axis('off')
            axes[1][column].axis('off')
            continue
        row_names = [r[0] for r in rows]
        # Names on the first column drawn, and wherever the modes differ
        # from it (the gevent scenario has modes of its own).
        labels = first_names is None or row_names != first_names
        first_names = first_names or row_names
        label = (SCENARIO_LABELS[alias].replace('g/', ' greenlets / ')
                 .replace('t/', ' threads / ').replace('c', ' conns'))
        _bars(axes[0][column], row_names, [r[3]['requests_per_s'] for r in rows],
              [r[1] for r in rows], [r[2] for r in rows], '%s: requests/s' % label,
              labels=labels)
        _bars(axes[1][column], row_names, [r[3]['p99_ms'] for r in rows],
              [r[1] for r in rows], [r[2] for r in rows],
              '%s: p99 ms (log)' % label, log=True, digits=1, labels=labels)
    rows = [(name, colour, hatch, entry['micro']) for name, colour, hatch, (_, entry)
            in zip(names, colours, hatches, ordered) if 'micro' in entry]
    if rows:
        _bars(axes[0][micro_column], [r[0] for r in rows], [r[3]['us_per_cycle'] for r in rows],
              [r[1] for r in rows], [r[2] for r in rows],
              'micro: borrow + SELECT 1 + return, us (log)', log=True, digits=1,
              labels=False)
    else:
        axes[0][micro_column].axis('off')
    axes[1][micro_column].axis('off')
    axes[1][micro_column].text(0.0, 1.0, _notes(meta), va='top', ha='left', fontsize=8,
                               family='monospace', transform=axes[1][micro_column].transAxes,
                               wrap=True)
    figure.suptitle('django-db-pool (dbpool) vs stock Django and other pools: Django '
                    '%s, Python %s; hatched bars: psycopg2' % (
                        _first(meta, 'django'), _first(meta, 'python')), fontsize=11)
    figure.tight_layout(rect=(0, 0, 1, 0.96))
    figure.savefig(path, dpi=90)
    plt.close(figure)


def _first(meta, key):
    for versions in meta.get('versions', {}).values():
        return versions.get(key, '?')
    return '?'


def _notes(meta):
    return '\n'.join([
        'command: %s' % meta['command'],
        'date:    %s' % meta['date'],
        'machine: %s' % meta['machine'],
        'PostgreSQL %s, scram-sha-256, loopback' % meta['postgresql'],
        '%d rounds, modes interleaved;' % meta['rounds'],
        '%.0f s measured per scenario after' % meta['seconds'],
        '%.1f s warm-up; medians of rounds' % meta['warmup_s'],
        'p99 counts requests still waiting',
        'at the end of the window',
        'no other load was stopped: see',
        'docs/benchmarks.md for the noise',
    ])


if __name__ == '__main__':
    import json
    import sys
    with open(sys.argv[1]) as f:
        draw(json.load(f), sys.argv[2])
