"""The benchmark's arithmetic (benchmarks/report.py): ratios and the verdict on targets.

No database, no Django: synthetic rounds in, summary and verdict out. The
benchmark itself is too slow and noisy for the test run; this keeps its
figures honest (Python 2.7 and 3.x).
"""
from __future__ import absolute_import, division, print_function

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'benchmarks'))

import report  # noqa: E402
from modes import BY_NAME  # noqa: E402


def load(rps, p99=10.0, starved=0, peak=8, threads=8):
    return {'requests_per_s': rps, 'p50_ms': p99 / 2, 'p99_ms': p99, 'max_ms': p99 * 2,
            'starved_thread_windows': starved, 'threads': threads, 'windows': 2,
            'peak_connections': peak, 'errors': 0, 'requests': int(rps * 2)}


def run(rps8, rps32, p99_32=10.0, micro=100.0, starved=0, peak=8):
    # 1t/1c and the realistic page move with 8t/8c here.
    return {'s1': load(rps8, threads=1), 's8': load(rps8), 'page': load(rps8),
            's32': load(rps32, p99_32, starved, peak, 32),
            'micro': {'us_per_cycle': micro, 'cpu_us_per_cycle': micro}}


def verdict(rounds):
    modes = [BY_NAME[name] for name in rounds]
    summary = report.summarise(modes, rounds)
    return summary, dict(((t['mode'], t['target']), t) for t in report.check_targets(summary))


ROUNDS = {
    'stock0-pg3': [run(100, 90, 500.0, 5000.0, peak=32)],
    'persistent-pg3': [run(1000, 900, 50.0, 100.0, peak=32)],
    'djpool-pg3': [run(800, 850, 40.0, 150.0)],
    'dbpool-pg3': [run(995, 950, 30.0, 109.0)],
}


def test_ratios_are_over_stock_persistent_on_the_same_driver():
    summary, _ = verdict(ROUNDS)
    assert summary['dbpool-pg3']['s8']['ratio'] == pytest.approx(0.995)
    assert summary['persistent-pg3']['s8']['ratio'] == pytest.approx(1.0)
    assert summary['dbpool-pg3']['micro']['ratio'] == pytest.approx(1.09)


def test_every_target_is_met_when_the_figures_are_within_bounds():
    _, targets = verdict(ROUNDS)
    assert len(targets) == 10
    assert [key for key, t in targets.items() if not t['met']] == []


def test_each_target_is_missed_when_its_figure_is_out_of_bounds():
    rounds = dict(ROUNDS, **{'dbpool-pg3': [run(960, 800, 45.0, 160.0, starved=1, peak=9)]})
    _, targets = verdict(rounds)
    missed = sorted(target for (mode, target), t in targets.items() if not t['met'])
    assert missed == ['1t/1c vs stock persistent', '32t/8c ahead of other pools',
                      '32t/8c no thread starved', '32t/8c p99 vs Django pool',
                      '32t/8c server connections', '8t/8c vs stock persistent',
                      'micro ahead of other pools', 'micro vs stock persistent',
                      'page 8t/8c vs stock persistent']
    assert targets[('dbpool-pg3', '8t/8c vs CONN_MAX_AGE=0')]['met']


def test_medians_over_rounds_and_worst_case_maxima():
    rounds = dict(ROUNDS, **{'dbpool-pg3': [run(900, 950), run(1000, 950, peak=9),
                                            run(1100, 950, starved=2)]})
    summary, _ = verdict(rounds)
    s32 = summary['dbpool-pg3']['s32']
    assert summary['dbpool-pg3']['s8']['requests_per_s'] == 1000
    assert s32['peak_connections'] == 9
    assert s32['starved_thread_windows'] == 2
    assert s32['thread_windows'] == 3 * 32 * 2
