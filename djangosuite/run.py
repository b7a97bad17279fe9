#!/usr/bin/env python
"""Run Django's own test suite with the stock PostgreSQL ENGINE and with dbpool's, and compare.

For one Django source tree (or a release, downloaded and unpacked into a
cache dir) and the interpreter running this script, the chosen test modules
run twice through the tree's ``tests/runtests.py``: once with
``djangosuite.settings_stock``, once with ``djangosuite.settings_dbpool``.
Each test's outcome is read from the ``--verbosity 2`` output, and a table per
module shows how many tests ran, how many passed with each ENGINE, and every
test that passes with the stock ENGINE but not with ours.

Exit status: 0 when no test passes with stock and fails with ours (other than
those in known_differences.txt), 1 when one does, 2 when the comparison could
not be made (setup error, the stock run crashed).

    python djangosuite/run.py                      # the installed Django's release, every module
    python djangosuite/run.py --quick              # the CI subset
    python djangosuite/run.py --django 4.2.30 --modules backends,transactions
    python djangosuite/run.py --tree ~/src/django  # a checkout or unpacked sdist

The server: DATABASE_URL (postgres://user:password@host:port/anydb; only the
credentials, host and port are used) when set, else a private throwaway
cluster (dbpool.testing.pgcluster) started for this invocation and removed
afterwards. Python 2.7 and 3.
"""
from __future__ import absolute_import, division, print_function

import argparse
import fnmatch
import io
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time

try:
    from shutil import which as find_executable
except ImportError:  # Python 2.7 (distutils is gone from 3.12)
    from distutils.spawn import find_executable

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

ALL_MODULES = ['backends', 'transactions', 'basic', 'queries', 'select_for_update',
               'get_or_create', 'test_runner', 'migrations', 'schema', 'postgres_tests']
QUICK_MODULES = ['backends', 'transactions', 'basic', 'get_or_create', 'select_for_update']
CONFIGS = [('stock', 'djangosuite.settings_stock'), ('dbpool', 'djangosuite.settings_dbpool')]
DEFAULT_CACHE = os.path.join(os.path.expanduser('~'), '.cache', 'dbpool-djangosuite')
ALLOW_LIST = os.path.join(HERE, 'known_differences.txt')
TRANSACTION_SCOPE_ALLOW_LIST = os.path.join(HERE, 'known_differences_transaction_scope.txt')

PASSED = ('ok', 'expected failure')
# Worst first: with several lines for one test (subtests), the worst wins.
SEVERITY = ['ERROR', 'FAIL', 'unexpected success', 'missing', 'skipped', 'expected failure', 'ok']
FIXTURES = ('setUpClass', 'tearDownClass', 'setUpModule', 'tearDownModule')

# "test_x (mod.Class)" (Python < 3.11) or "test_x (mod.Class.test_x)" (3.11+),
# maybe followed by a subtest's " [msg] (params)", then " ... STATUS", or
# alone when a docstring line follows (the status then ends that line).
HEAD_RE = re.compile(r'^(?P<method>[A-Za-z_]\w*) \((?P<where>[A-Za-z_][\w.]*)\)(?P<rest>.*)$')
STATUS_RE = re.compile(r' \.\.\. (?P<status>ok|FAIL|ERROR|skipped.*|expected failure'
                       r'|unexpected success)$')
BARE_STATUS_RE = re.compile(r'^(?P<status>ok|FAIL|ERROR|skipped.*|expected failure'
                            r'|unexpected success)$')
BLOCK_HEAD_RE = re.compile(r'^(?P<kind>ERROR|FAIL|UNEXPECTED SUCCESS): (?P<method>[A-Za-z_]\w*)'
                           r' \((?P<where>[A-Za-z_][\w.]*)\)(?P<rest>.*)$')
RAN_RE = re.compile(r'^Ran (\d+) tests? in ([\d.]+)s$')


def log(message):
    print(message)
    sys.stdout.flush()


# -- Getting a Django source tree ---------------------------------------------------

def installed_django_version(python):
    """The version of the Django that ``python`` imports, or None."""
    try:
        out = subprocess.check_output(
            [python, '-c', 'import django; print(django.get_version())'],
            stderr=subprocess.STDOUT, cwd='/')
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.decode('ascii', 'replace').strip().splitlines()[-1]


def release_tree(version, cache_dir):
    """Download (once) and unpack (once) Django ``version``'s sdist; return the tree."""
    sdist_dir = os.path.join(cache_dir, 'sdist')
    src_dir = os.path.join(cache_dir, 'src')
    for folder in (sdist_dir, src_dir):
        if not os.path.isdir(folder):
            os.makedirs(folder)
    for prefix in ('Django-', 'django-'):
        tree = os.path.join(src_dir, prefix + version)
        if os.path.isfile(os.path.join(tree, 'tests', 'runtests.py')):
            return tree
    archive = _find_sdist(sdist_dir, version)
    if archive is None:
        log('downloading the Django %s sdist into %s' % (version, sdist_dir))
        command = ['-m', 'pip', 'download', '--quiet', '--no-deps', '--no-binary', ':all:',
                   'Django==%s' % version, '-d', sdist_dir]
        try:
            subprocess.check_call([sys.executable] + command)
        except subprocess.CalledProcessError:
            # pip 20.3 on Python 2.7 fails its own assertion in `pip download`
            # (save_linked_requirement); an sdist is the same whoever fetches it.
            python3 = find_executable('python3')
            if not python3:
                raise
            log('retrying the download with %s' % python3)
            subprocess.check_call([python3] + command + ['--ignore-requires-python'])
        archive = _find_sdist(sdist_dir, version)
        if archive is None:
            raise SystemExit('pip downloaded no Django-%s sdist into %s' % (version, sdist_dir))
    log('unpacking %s' % archive)
    with tarfile.open(archive) as tar:
        top = tar.getnames()[0].split('/')[0]
        tar.extractall(src_dir)
    return os.path.join(src_dir, top)


def _find_sdist(sdist_dir, version):
    for name in os.listdir(sdist_dir):
        if name.lower() == ('django-%s.tar.gz' % version).lower():
            return os.path.join(sdist_dir, name)
    return None


def describe_dbpool(root):
    """Which dbpool code runs: a git commit (+dirty), or a snapshot's note."""
    note = os.path.join(root, 'DBPOOL_SNAPSHOT')
    if os.path.isfile(note):
        with io.open(note, encoding='utf-8') as f:
            return f.read().strip()
    try:
        with open(os.devnull, 'wb') as devnull:
            commit = subprocess.check_output(['git', '-C', root, 'rev-parse', '--short', 'HEAD'],
                                             stderr=devnull).decode('ascii').strip()
            dirty = subprocess.check_output(['git', '-C', root, 'status', '--porcelain',
                                             '--', 'dbpool'], stderr=devnull).strip()
    except (OSError, subprocess.CalledProcessError):
        return 'not a git checkout'
    return 'commit %s%s' % (commit, ' + uncommitted changes in dbpool/' if dirty else '')


# -- Running runtests.py ------------------------------------------------------------------

def probe(python, env):
    """Django version, driver and its version as the runs will see them."""
    code = (
        'import django, sys\n'
        'driver = "psycopg2"\n'
        'if django.VERSION >= (4, 2):\n'
        '    from django.db.backends.postgresql import psycopg_any\n'
        '    if psycopg_any.is_psycopg3: driver = "psycopg"\n'
        'mod = __import__(driver)\n'
        'import dbpool\n'
        'print("%s|%s|%s|%s|%s|%s" % (django.get_version(), django.__file__, driver,\n'
        '      mod.__version__.split()[0], ".".join(map(str, sys.version_info[:3])),\n'
        '      dbpool.__file__))\n')
    out = subprocess.check_output([python, '-c', code], env=env, cwd='/')
    return out.decode('utf-8', 'replace').strip().splitlines()[-1].split('|')


def run_once(python, tree, settings_module, modules, args, log_dir, label, env):
    """Run runtests.py once; return (exit code or None on timeout, seconds, log paths)."""
    command = [python, 'runtests.py', '--settings', settings_module, '--noinput',
               '--verbosity', '2', '--parallel', str(args.parallel)]
    command += list(args.runtests_args) + list(modules)
    out_path = os.path.join(log_dir, label + '.stdout.log')
    err_path = os.path.join(log_dir, label + '.stderr.log')
    log('%s: %s' % (label, ' '.join(command)))
    log('%s:   logs %s, %s' % (label, out_path, err_path))
    started = time.time()
    with open(out_path, 'wb') as out, open(err_path, 'wb') as err, \
            open(os.devnull, 'rb') as devnull:
        proc = subprocess.Popen(command, cwd=os.path.join(tree, 'tests'), env=env,
                                stdin=devnull, stdout=out, stderr=err,
                                preexec_fn=os.setsid)  # its own group, to stop it whole
        code = _wait(proc, args.timeout)
    elapsed = time.time() - started
    if code is None:
        log('%s: TIMEOUT after %.0f s: stopped it' % (label, elapsed))
    else:
        log('%s: exit %s after %.0f s' % (label, code, elapsed))
    return code, elapsed, out_path, err_path


def _wait(proc, timeout):
    """Wait for proc (Python 2.7 has no wait(timeout)); None if it had to be stopped."""
    deadline = time.time() + timeout
    try:
        while proc.poll() is None:
            if time.time() > deadline:
                _stop_group(proc)
                return None
            time.sleep(0.5)
    except KeyboardInterrupt:
        _stop_group(proc)
        raise
    return proc.returncode


def _stop_group(proc):
    # Only the group this script started (runtests.py and its workers).
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            pass
        deadline = time.time() + grace
        while proc.poll() is None and time.time() < deadline:
            time.sleep(0.2)
        if proc.poll() is not None:
            return


# -- Reading the outcome --------------------------------------------------------------------

class Outcome(object):
    """What one runtests.py run said: per-test outcomes and errors."""

    def __init__(self):
        self.tests = {}      # test id -> status (a SEVERITY word)
        self.errors = {}     # test id -> first line of the error
        self.fixtures = {}   # 'mod.Class.setUpClass' etc. -> first line of the error
        self.ran = None      # the "Ran N tests" count
        self.seconds = None
        self.verdict = None  # OK / FAILED (...)
        self.code = None
        self.crash = None    # the last exception line when the runner itself died

    def passed(self):
        return set(t for t, s in self.tests.items() if s in PASSED)


def normalize_id(method, where):
    """mod.Class.method, whatever the Python version's format."""
    if where.endswith('.' + method):  # 3.11+ already names the method
        return where
    return '%s.%s' % (where, method)


def status_word(status):
    return 'skipped' if status.startswith('skipped') else status


def worse(a, b):
    if a is None:
        return b
    return a if SEVERITY.index(a) <= SEVERITY.index(b) else b


def parse_output(text):
    """Parse unittest's verbosity-2 stream (stderr of runtests.py) into an Outcome."""
    outcome = Outcome()
    lines = text.splitlines()
    pending = None  # a test whose status line has not come yet

    def record(test_id, status):
        status = status_word(status)
        method = test_id.rsplit('.', 1)[-1]
        if method in FIXTURES:
            if status in ('ERROR', 'FAIL'):
                outcome.fixtures.setdefault(test_id, '')
            return
        outcome.tests[test_id] = worse(outcome.tests.get(test_id), status)

    for line in lines:
        head = HEAD_RE.match(line)
        status = STATUS_RE.search(line)
        if head:
            test_id = normalize_id(head.group('method'), head.group('where'))
            if status:
                record(test_id, status.group('status'))
                pending = None
            else:
                pending = test_id
            continue
        if pending is not None:
            bare = BARE_STATUS_RE.match(line)
            if status or bare:  # a docstring line ending in the status, or output then status
                record(pending, (status or bare).group('status'))
                pending = None
            continue
        ran = RAN_RE.match(line)
        if ran:
            outcome.ran, outcome.seconds = int(ran.group(1)), float(ran.group(2))
        elif line == 'OK' or line.startswith('OK (') or line.startswith('FAILED ('):
            outcome.verdict = line
    _parse_error_blocks(lines, outcome)
    return outcome


def _parse_error_blocks(lines, outcome):
    """The "ERROR: test (mod.Class)" blocks: first line of each test's error."""
    index = 0
    while index < len(lines):
        head = BLOCK_HEAD_RE.match(lines[index])
        if not head or index == 0 or not lines[index - 1].startswith('======'):
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not lines[end].startswith('======') \
                and not RAN_RE.match(lines[end]):
            end += 1
        first = first_error_line(lines[index + 1:end])
        test_id = normalize_id(head.group('method'), head.group('where'))
        method = head.group('method')
        if method in FIXTURES:
            outcome.fixtures[test_id] = first
        elif head.group('kind') == 'UNEXPECTED SUCCESS':
            outcome.errors.setdefault(test_id, 'unexpected success')
        elif test_id not in outcome.errors:
            subtest = head.group('rest').strip()
            outcome.errors[test_id] = (subtest + ': ' if subtest else '') + first
            # A failure the stream missed (output got between) still counts.
            outcome.tests[test_id] = worse(outcome.tests.get(test_id), head.group('kind'))
        index = end


def first_error_line(block):
    """The first line of the last exception in a traceback block."""
    start = None
    for number, line in enumerate(block):
        if line.startswith('Traceback (most recent call last)'):
            start = number
    if start is None:
        texts = [line for line in block if line.strip() and not line.startswith('------')]
        return texts[0].strip() if texts else ''
    for line in block[start + 1:]:
        if line and not line.startswith(' ') and not line.startswith('\t'):
            return line.strip()
    return ''


def last_exception_line(text):
    """The exception that stopped a crashed runner (outside any test)."""
    return first_error_line(text.splitlines()[-200:]) or '(no traceback)'


def read_text(path):
    with io.open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


# -- The allow-list ------------------------------------------------------------------

def load_allow_list(path):
    """[(pattern, reason)] from a file of 'TEST_ID_OR_GLOB  reason' lines ('#': comment)."""
    entries = []
    if not path or not os.path.exists(path):
        return entries
    with io.open(path, encoding='utf-8') as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith('#'):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2:
                raise SystemExit('%s:%d: a test id and a reason are needed' % (path, number))
            entries.append((parts[0], parts[1]))
    return entries


def allowed_reason(test_id, entries):
    for pattern, reason in entries:
        if fnmatch.fnmatchcase(test_id, pattern):
            return reason
    return None


# -- Comparing ------------------------------------------------------------------------

def module_of(test_id):
    return test_id.split('.', 1)[0]


def compare(stock, ours, modules, entries):
    """Per-module rows and the list of differences (stock passes, ours does not)."""
    rows = []
    differences = []
    for module in modules:
        ids = set(t for t in set(stock.tests) | set(ours.tests) if module_of(t) == module)
        stock_pass = set(t for t in stock.passed() if module_of(t) == module)
        ours_pass = set(t for t in ours.passed() if module_of(t) == module)
        module_diffs = []
        for test_id in sorted(stock_pass - ours_pass):
            status = ours.tests.get(test_id, 'missing')
            detail = ours.errors.get(test_id, '')
            if status == 'missing':
                detail = _missing_detail(test_id, ours)
            elif status == 'skipped':
                detail = 'skipped with dbpool'
            module_diffs.append({'test': test_id, 'status': status, 'error': detail,
                                 'allowed': allowed_reason(test_id, entries)})
        # A class or module fixture that only fails with ours.
        for fixture in sorted(set(ours.fixtures) - set(stock.fixtures)):
            if module_of(fixture) == module:
                module_diffs.append({'test': fixture, 'status': 'ERROR',
                                     'error': ours.fixtures[fixture],
                                     'allowed': allowed_reason(fixture, entries)})
        differences.extend(module_diffs)
        rows.append({
            'module': module,
            'run': len(set(t for t in stock.tests if module_of(t) == module)),
            'run_dbpool': len(set(t for t in ours.tests if module_of(t) == module)),
            'passed_stock': len(stock_pass),
            'passed_dbpool': len(ours_pass),
            'skipped_stock': _count(stock, module, 'skipped'),
            'skipped_dbpool': _count(ours, module, 'skipped'),
            'only_dbpool_passes': len(ours_pass - stock_pass),
            'differences': len([d for d in module_diffs if not d['allowed']]),
            'allowed': len([d for d in module_diffs if d['allowed']]),
            'all_ids': len(ids),
        })
    return rows, differences


def _count(outcome, module, status):
    return len([t for t, s in outcome.tests.items() if s == status and module_of(t) == module])


def _missing_detail(test_id, outcome):
    parts = test_id.split('.')
    for depth in range(len(parts) - 1, 0, -1):
        prefix = '.'.join(parts[:depth])
        for fixture in FIXTURES:
            error = outcome.fixtures.get(prefix + '.' + fixture)
            if error is not None:
                return 'not run: %s failed: %s' % (fixture, error)
    if outcome.crash:
        return 'not run: the runner died: %s' % outcome.crash
    return 'not run (not in the output)'


def print_table(rows, title):
    log('')
    log(title)
    header = ('module', 'tests run', 'passed stock', 'passed dbpool', 'skipped s/d',
              'differences', 'allowed')
    table = [header]
    total = dict((key, 0) for key in ('run', 'passed_stock', 'passed_dbpool', 'differences',
                                      'allowed', 'skipped_stock', 'skipped_dbpool'))
    for row in rows:
        table.append((row['module'], str(row['run']), str(row['passed_stock']),
                      str(row['passed_dbpool']),
                      '%d/%d' % (row['skipped_stock'], row['skipped_dbpool']),
                      str(row['differences']), str(row['allowed'])))
        for key in total:
            total[key] += row[key]
    table.append(('TOTAL', str(total['run']), str(total['passed_stock']),
                  str(total['passed_dbpool']),
                  '%d/%d' % (total['skipped_stock'], total['skipped_dbpool']),
                  str(total['differences']), str(total['allowed'])))
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for number, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        log('  ' + '  '.join(cells))
        if number == 0 or number == len(table) - 2:
            log('  ' + '  '.join('-' * w for w in widths))
    return total


# -- Main ----------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Run Django's test suite with the stock ENGINE and with dbpool's; compare.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument('--tree', help='a Django source tree (with tests/runtests.py)')
    where.add_argument('--django', metavar='VERSION',
                       help='a Django release to download and unpack (default: the '
                            'version this interpreter imports)')
    which = parser.add_mutually_exclusive_group()
    which.add_argument('--modules', help='comma-separated test modules (default: %s)'
                       % ','.join(ALL_MODULES))
    which.add_argument('--quick', action='store_true',
                       help='the CI subset: %s' % ','.join(QUICK_MODULES))
    parser.add_argument('--parallel', type=int, default=1,
                        help="runtests.py --parallel (default 1)")
    parser.add_argument('--timeout', type=float, default=3600,
                        help='seconds one runtests.py run may take (default 3600)')
    parser.add_argument('--cache-dir', default=os.environ.get('DJSUITE_CACHE', DEFAULT_CACHE),
                        help='where sdists, unpacked trees and logs go (default %s)'
                        % DEFAULT_CACHE)
    parser.add_argument('--log-dir', help='where the two runs write their output '
                        '(default: a new folder under CACHE_DIR/logs)')
    parser.add_argument('--allow-list', default=ALLOW_LIST,
                        help='known differences file (default djangosuite/known_differences.txt)')
    parser.add_argument('--db-name', help='database name the test databases derive from '
                        '(test_NAME, test_NAME_other; default djsuite)')
    parser.add_argument('--dbpool', default=REPO, metavar='PATH',
                        help='the folder holding the dbpool package to test (default: this '
                             'checkout, %s); run-matrix.sh passes a snapshot' % REPO)
    parser.add_argument('--json', help='also write the results to this JSON file')
    parser.add_argument('--label', help='a name for this configuration in the JSON file')
    parser.add_argument('runtests_args', nargs='*', metavar='-- RUNTESTS_ARG',
                        help='extra arguments for runtests.py, after --')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.time()
    python = sys.executable
    cache_dir = os.path.abspath(os.path.expanduser(args.cache_dir))

    if args.tree:
        tree = os.path.abspath(os.path.expanduser(args.tree))
        if not os.path.isfile(os.path.join(tree, 'tests', 'runtests.py')):
            raise SystemExit('%s has no tests/runtests.py' % tree)
    else:
        version = args.django or installed_django_version(python)
        if not version:
            raise SystemExit('%s imports no Django: give --django VERSION or --tree PATH '
                             '(and install the release with its driver)' % python)
        tree = release_tree(version, cache_dir)

    wanted = QUICK_MODULES if args.quick else (
        [m.strip() for m in args.modules.split(',') if m.strip()] if args.modules
        else ALL_MODULES)
    modules = [m for m in wanted if os.path.isdir(os.path.join(tree, 'tests', m))]
    absent = [m for m in wanted if m not in modules]

    env = dict(os.environ)
    env.pop('DJANGO_SETTINGS_MODULE', None)
    # The tree's django first, then djangosuite and dbpool from this checkout.
    dbpool_root = os.path.abspath(os.path.expanduser(args.dbpool))
    if not os.path.isfile(os.path.join(dbpool_root, 'dbpool', '__init__.py')):
        raise SystemExit('%s has no dbpool package' % dbpool_root)
    env['PYTHONPATH'] = os.pathsep.join(
        [tree, dbpool_root, REPO] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p])
    env['PYTHONUNBUFFERED'] = '1'
    if args.db_name:
        env['DJSUITE_DB_NAME'] = args.db_name

    django_version, django_file, driver, driver_version, py_version, dbpool_file = \
        probe(python, env)
    if not os.path.abspath(django_file).startswith(tree + os.sep):
        raise SystemExit('the runs would import Django from %s, not from %s' % (django_file, tree))
    if not os.path.abspath(dbpool_file).startswith(dbpool_root + os.sep):
        raise SystemExit('the runs would import dbpool from %s, not from %s'
                         % (dbpool_file, dbpool_root))
    dbpool_revision = describe_dbpool(dbpool_root)
    label = args.label or 'django%s-py%s-%s' % (django_version, py_version, driver)
    log_dir = args.log_dir or os.path.join(
        cache_dir, 'logs', '%s-%s' % (label, time.strftime('%Y%m%d-%H%M%S')))
    if not os.path.isdir(log_dir):
        os.makedirs(log_dir)

    log('Django %s (%s) on Python %s (%s), driver %s %s' % (
        django_version, tree, py_version, python, driver, driver_version))
    log('dbpool from %s (%s)' % (dbpool_root, dbpool_revision))
    log('modules: %s%s' % (' '.join(modules), ('  (not in this release: %s)'
                                               % ' '.join(absent)) if absent else ''))
    if not modules:
        raise SystemExit('none of the modules exist in %s/tests' % tree)

    if REPO not in sys.path:
        sys.path.insert(0, REPO)  # dbpool.testing.pgcluster, from this checkout
    cluster = None
    if not env.get('DATABASE_URL'):
        from dbpool.testing.pgcluster import PgCluster
        cluster = PgCluster().start()
        env['DATABASE_URL'] = cluster.url()
        log('server: a private PostgreSQL cluster on %s:%s (removed at the end)'
            % (cluster.host, cluster.port))
    else:
        from dbpool.testing.pgcluster import parse_database_url
        server = parse_database_url(env['DATABASE_URL'])
        log('server: DATABASE_URL (%s@%s:%s)' % (server['USER'], server['HOST'], server['PORT']))
    outcomes = {}
    timings = {}
    try:
        for name, settings_module in CONFIGS:
            code, elapsed, out_path, err_path = run_once(
                python, tree, settings_module, modules, args, log_dir, name, env)
            text = read_text(err_path)
            outcome = parse_output(text)
            outcome.code = code
            if outcome.ran is None:  # the runner did not get to its summary
                outcome.crash = ('timeout after %.0f s' % elapsed if code is None
                                 else last_exception_line(text + '\n' + read_text(out_path)))
            outcomes[name] = outcome
            timings[name] = elapsed
    finally:
        if cluster is not None:
            cluster.destroy()

    stock, ours = outcomes['stock'], outcomes['dbpool']
    entries = load_allow_list(args.allow_list)
    if json.loads(os.environ.get('DJSUITE_POOL_OPTIONS') or '{}').get('CHECKOUT_SCOPE') == \
            'transaction':
        # What only transaction scope does differently, on top of the rest.
        entries += load_allow_list(TRANSACTION_SCOPE_ALLOW_LIST)
    rows, differences = compare(stock, ours, modules, entries)
    title = 'Django %s, Python %s, %s %s, dbpool %s: %s' % (
        django_version, py_version, driver, driver_version, dbpool_revision, label)
    total = print_table(rows, title)

    problems = []
    for name, outcome in (('stock', stock), ('dbpool', ours)):
        parsed = len(outcome.tests)
        log('%s: exit %s, %s, "Ran %s tests" (%d parsed), %.0f s wall' % (
            name, 'timeout' if outcome.code is None else outcome.code,
            outcome.verdict or 'no verdict', outcome.ran, parsed, timings[name]))
        if outcome.crash:
            log('%s: the runner died: %s' % (name, outcome.crash))
        elif outcome.ran is not None and outcome.ran > parsed:
            log('%s: note: %d tests ran but only %d outcomes were read from the output'
                % (name, outcome.ran, parsed))
    if stock.crash or not stock.tests:
        problems.append('the stock run did not complete: nothing to compare against')
    if ours.crash:
        problems.append('the dbpool run died: %s' % ours.crash)
    elif ours.code not in (0, None) and stock.code == 0 and ours.verdict and \
            ours.verdict.startswith('OK'):
        problems.append('the dbpool run exited %s after its tests passed: %s'
                        % (ours.code, last_exception_line(read_text(
                            os.path.join(log_dir, 'dbpool.stderr.log')))))

    real = [d for d in differences if not d['allowed']]
    allowed = [d for d in differences if d['allowed']]
    if real:
        log('')
        log('Pass with stock, not with dbpool (%d):' % len(real))
        for diff in real:
            log('  %s: %s  %s' % (diff['test'], diff['status'], diff['error']))
    if allowed:
        log('')
        log('Known differences (%s) (%d):' % (os.path.basename(args.allow_list), len(allowed)))
        for diff in allowed:
            log('  %s: %s  [%s]' % (diff['test'], diff['status'], diff['allowed']))
    only_ours = sorted(ours.passed() - stock.passed())
    if only_ours:
        log('')
        log('Pass with dbpool, not with stock (%d, for information):' % len(only_ours))
        for test_id in only_ours:
            log('  %s: stock %s  %s' % (test_id, stock.tests.get(test_id, 'missing'),
                                         stock.errors.get(test_id, '')))
    used = set(p for p, _ in entries if any(fnmatch.fnmatchcase(d['test'], p)
                                             for d in allowed))
    unused = [p for p, _ in entries if p not in used
              and module_of(p) in modules]
    if unused:
        log('')
        log('Allow-list entries that matched nothing here (other release or driver, or fixed):')
        for pattern in unused:
            log('  ' + pattern)
    for problem in problems:
        log('PROBLEM: ' + problem)

    wall = time.time() - started
    log('')
    log('wall time: %.0f s (stock %.0f s, dbpool %.0f s); logs in %s'
        % (wall, timings['stock'], timings['dbpool'], log_dir))
    status = 2 if (stock.crash or not stock.tests) else (1 if (real or problems) else 0)
    log('RESULT: %s: %d tests, %d passed with stock, %d passed with dbpool, '
        '%d differences, %d known' % (
            {0: 'PASS', 1: 'FAIL', 2: 'ERROR'}[status], total['run'], total['passed_stock'],
            total['passed_dbpool'], len(real), len(allowed)))
    # The plain closing line CI tools read: passed = tests that pass with
    # dbpool, failed = tests that pass with stock and not with dbpool.
    log('djangosuite: %d passed, %d failed, %d skipped'
        % (total['passed_dbpool'], len(real), total['skipped_dbpool']))
    if args.json:
        with io.open(args.json, 'w', encoding='utf-8') as f:
            data = {'label': label, 'django': django_version, 'python': py_version,
                    'dbpool': dbpool_revision,
                    'driver': driver, 'driver_version': driver_version,
                    'modules': modules, 'rows': rows, 'differences': differences,
                    'only_dbpool_passes': only_ours, 'problems': problems,
                    'seconds': {'stock': round(timings['stock'], 1),
                                'dbpool': round(timings['dbpool'], 1),
                                'wall': round(wall, 1)},
                    'exit': {'stock': stock.code, 'dbpool': ours.code},
                    'status': status, 'log_dir': log_dir}
            text = json.dumps(data, indent=2, sort_keys=True)
            f.write(text if isinstance(text, type(u'')) else text.decode('utf-8'))
    return status


if __name__ == '__main__':
    sys.exit(main())
