"""Add up the JUnit reports of the tox cells: one line per cell, then the totals.

    python scripts/summarize_junit.py .tox
"""
from __future__ import absolute_import, division, print_function

import glob
import os
import sys
import xml.etree.ElementTree as ElementTree


def cell_counts(path):
    """(tests, failed, skipped) of one pytest JUnit report."""
    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == 'testsuite' else root.findall('testsuite')
    tests = failed = skipped = 0
    for suite in suites:
        tests += int(suite.get('tests', 0))
        failed += int(suite.get('failures', 0)) + int(suite.get('errors', 0))
        skipped += int(suite.get('skipped', 0))
    return tests, failed, skipped


def main(tox_dir):
    totals = [0, 0, 0]
    # junit-transaction-scope.xml: a cell's second pass with transaction-scoped pools.
    reports = sorted(glob.glob(os.path.join(tox_dir, '*', 'tmp', 'junit.xml'))
                     + glob.glob(os.path.join(tox_dir, '*', 'tmp', 'junit-transaction-scope.xml')))
    cells = [os.path.basename(os.path.dirname(os.path.dirname(path)))
             + ('' if path.endswith(os.sep + 'junit.xml') else ' (transaction scope)')
             for path in reports]
    width = max([24] + [len(cell) for cell in cells])
    for cell, path in zip(cells, reports):
        tests, failed, skipped = cell_counts(path)
        print('%-*s %4d passed, %d failed, %d skipped' % (
            width, cell, tests - failed - skipped, failed, skipped))
        totals = [totals[0] + tests, totals[1] + failed, totals[2] + skipped]
    tests, failed, skipped = totals
    print('cells with a report: %d' % len(reports))
    print('tests: %d passed, %d failed, %d skipped' % (tests - failed - skipped, failed, skipped))


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '.tox')
