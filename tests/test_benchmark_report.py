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

import modes  # noqa: E402
import report  # noqa: E402
from modes import BY_NAME  # noqa: E402


def load(rps, p99=10.0, starved=0, peak=8, threads=8, errors=0):
    # ``starved`` threads, each with one empty window of the two.
    return {'requests_per_s': rps, 'p50_ms': p99 / 2, 'p99_ms': p99, 'max_ms': p99 * 2,
            'starved_thread_windows': starved, 'starved_threads': starved,
            'threads': threads, 'windows': 2, 'peak_connections': peak, 'errors': errors,
            'requests': int(rps * 2)}


def run(rps8, rps32, p99_32=10.0, micro=100.0, starved=0, peak=8, slow=None):
    # 1t/1c and the realistic page move with 8t/8c here; ``slow``, when
    # given, is the slow view's load.
    result = {'s1': load(rps8, threads=1), 's8': load(rps8), 'page': load(rps8),
              's32': load(rps32, p99_32, starved, peak, 32),
              'micro': {'us_per_cycle': micro, 'cpu_us_per_cycle': micro}}
    if slow is not None:
        result['slow'] = slow
    return result


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


# -- Transaction scope (CHECKOUT_SCOPE='transaction') and the slow view ---------------

def slow(rps, p99=60.0, starved=0, peak=4, errors=0):
    return load(rps, p99, starved, peak, threads=32, errors=errors)


SCOPE_ROUNDS = {
    'persistent-pg3': [run(1000, 900, 50.0, 100.0, peak=32, slow=slow(530, peak=32))],
    'djpool-pg3': [run(800, 850, 40.0, 150.0, slow=slow(160, 190.0))],
    'dbpool-pg3': [run(1000, 950, 30.0, 100.0, slow=slow(160, 200.0))],
    'dbpool-tx-pg3': [run(960, 950, 30.0, 104.0, slow=slow(500, 70.0))],
}


def test_transaction_scope_ratios_are_over_request_scope_on_the_same_driver():
    summary, _ = verdict(SCOPE_ROUNDS)
    tx = summary['dbpool-tx-pg3']
    assert tx['s8']['scope_ratio'] == pytest.approx(0.96)
    assert tx['slow']['scope_ratio'] == pytest.approx(500 / 160.0)
    assert tx['micro']['scope_ratio'] == pytest.approx(1.04)
    # Over stock persistent as every other mode, too.
    assert tx['slow']['ratio'] == pytest.approx(500 / 530.0)
    assert 'scope_ratio' not in summary['dbpool-pg3']['s8']


def test_every_scope_target_is_met_when_transaction_scope_keeps_up():
    _, targets = verdict(SCOPE_ROUNDS)
    scope = dict((target, t) for (mode, target), t in targets.items()
                 if mode == 'dbpool-tx-pg3')
    assert sorted(scope) == [
        '1t/1c vs request scope', '32t/8c vs request scope', '8t/8c vs request scope',
        'micro vs request scope', 'page 8t/8c vs request scope',
        'slow 32t/4c no errors', 'slow 32t/4c no thread starved',
        'slow 32t/4c server connections', 'slow 32t/4c vs request scope',
        'slow 32t/4c vs stock persistent']
    assert [name for name, t in scope.items() if not t['met']] == []


def test_each_scope_target_is_missed_when_its_figure_is_out_of_bounds():
    rounds = dict(SCOPE_ROUNDS, **{'dbpool-tx-pg3': [
        run(940, 950, 30.0, 106.0,
            slow=slow(470, 70.0, starved=3, peak=5, errors=2))]})
    _, targets = verdict(rounds)
    missed = sorted(target for (mode, target), t in targets.items()
                    if mode == 'dbpool-tx-pg3' and not t['met'])
    assert missed == ['1t/1c vs request scope', '8t/8c vs request scope',
                      'micro vs request scope', 'page 8t/8c vs request scope',
                      'slow 32t/4c no errors', 'slow 32t/4c no thread starved',
                      'slow 32t/4c server connections', 'slow 32t/4c vs request scope',
                      'slow 32t/4c vs stock persistent']
    assert targets[('dbpool-tx-pg3', '32t/8c vs request scope')]['met']


def test_the_reset_targets_of_issue_13_stay_with_the_request_scope_modes():
    _, targets = verdict(SCOPE_ROUNDS)
    assert ('dbpool-pg3', '8t/8c vs stock persistent') in targets
    assert ('dbpool-tx-pg3', '8t/8c vs stock persistent') not in targets
    assert not [key for key in targets if key[0] == 'dbpool-pg3' and 'scope' in key[1]]


def test_transaction_scope_without_its_request_scope_mode_gets_no_scope_ratio():
    rounds = dict((name, runs) for name, runs in SCOPE_ROUNDS.items() if name != 'dbpool-pg3')
    summary, targets = verdict(rounds)
    assert 'scope_ratio' not in summary['dbpool-tx-pg3']['s8']
    assert targets[('dbpool-tx-pg3', 'slow 32t/4c vs stock persistent')]['met']
    assert ('dbpool-tx-pg3', 'slow 32t/4c vs request scope') not in targets


def test_a_gevent_transaction_scope_mode_compares_with_the_gevent_default():
    assert modes.request_scope_for(BY_NAME['gevent-dbpool-tx-pg2']).name == 'gevent-dbpool-pg2'
    assert modes.request_scope_for(BY_NAME['dbpool-tx-pg2']).name == 'dbpool-pg2'


def test_the_slow_view_table_shows_every_mode_with_errors_starved_threads_and_connections():
    rounds = dict(SCOPE_ROUNDS, **{'djdbconnpool-pg3': [
        run(700, 700, slow=slow(149, 900.0, starved=28, errors=1))]})
    summary, _ = verdict(rounds)
    lines = report.slow_lines(summary)
    rows = dict((line.split(' | ')[0].lstrip('| '), line) for line in lines
                if line.startswith('| ') and 'psycopg3' in line)
    assert sorted(rows) == ["Django's pool (psycopg_pool)", 'dbpool (default)',
                            'dbpool (transaction scope)', 'django-db-connection-pool',
                            'stock persistent']
    assert rows['django-db-connection-pool'].split(' | ')[5:8] == ['1', '28/32', '4']
    assert rows['dbpool (transaction scope)'].split(' | ')[2:5] == ['500', '0.94', '3.12']
    assert rows['stock persistent'].split(' | ')[7] == '32'


def test_the_scope_table_gives_each_scenario_its_target():
    summary, _ = verdict(SCOPE_ROUNDS)
    rows = [line.split(' | ') for line in report.scope_lines(summary) if line.startswith('| ')]
    by_scenario = dict((row[0].lstrip('| '), row) for row in rows[1:])
    assert by_scenario['slow 32t/4c'][4:] == ['3.12', '>= 3.00 |']
    assert by_scenario['8t/8c'][2:] == ['1000.0', '960.0', '0.96', '>= 0.95 |']
    assert by_scenario['micro'][4:] == ['1.04', '<= 1.05 |']


def test_no_slow_view_or_scope_table_for_a_run_without_them():
    summary, _ = verdict(ROUNDS)
    assert report.slow_lines(summary) == []
    assert report.scope_lines(summary) == []


# -- The modes' settings ---------------------------------------------------------------

BASE = {'NAME': 'bench', 'USER': 'bench', 'PASSWORD': 'secret', 'HOST': '127.0.0.1',
        'PORT': 5432}


def test_the_transaction_scope_mode_asks_dbpool_for_transaction_scope():
    options = BY_NAME['dbpool-tx-pg3'].database(BASE, 'slow', 4)['OPTIONS']
    assert options['CHECKOUT_SCOPE'] == 'transaction'
    assert options['MAX_CONNS'] == 4
    assert 'RESET_ON_RETURN' not in options
    assert 'CHECKOUT_SCOPE' not in BY_NAME['dbpool-pg3'].database(BASE, 'slow', 4)['OPTIONS']


def test_a_mode_whose_option_dbpool_lacks_is_named_for_skipping():
    without = frozenset(['MAX_CONNS', 'MIN_CONNS', 'POOL_TIMEOUT', 'RESET_ON_RETURN'])
    assert BY_NAME['dbpool-tx-pg3'].missing_options(without) == ['CHECKOUT_SCOPE']
    assert BY_NAME['dbpool-tx-pg3'].missing_options(without | set(['CHECKOUT_SCOPE'])) == []
    assert BY_NAME['dbpool-rollback-pg3'].missing_options(without) == []
    assert BY_NAME['persistent-pg3'].missing_options(frozenset()) == []


def test_the_slow_view_runs_in_every_threaded_mode_and_in_no_gevent_one():
    assert 'slow' in BY_NAME['djdbconnpool-pg3'].scenarios()
    assert 'slow' not in BY_NAME['gevent-dbpool-tx-pg3'].scenarios()
    assert modes.view_path('slow') == '/slow/%s/%d/'


def test_bench_sizes_change_a_scenarios_threads_and_connections():
    sizes = modes.scenario_sizes({'BENCH_SIZES': 'slow=16/6, s8=8/4'})
    assert sizes['slow'] == (16, 6)
    assert sizes['s8'] == (8, 4)
    assert sizes['s32'] == (32, 8)
    assert modes.scenario_sizes({})['slow'] == (32, 4)


@pytest.mark.parametrize('value', ['slow=32', 'nothere=1/1', 'slow=a/4'])
def test_a_malformed_bench_sizes_is_refused(value):
    with pytest.raises(ValueError):
        modes.scenario_sizes({'BENCH_SIZES': value})
