"""Copy the checkout without the package, for a cell that tests the installed wheel.

    python scripts/copy_suite.py SOURCE DEST

DEST gets tests/, testprojects/, docs/ and the rest of the checkout, but
not dbpool/ nor setup.py, and no tox, git or virtualenv folders: pytest run
from DEST can import dbpool only from site-packages (tests/test_matrix_cell.py
checks that it did). Runs on every Python of the matrix.
"""
from __future__ import absolute_import, division, print_function

import os
import shutil
import sys

# The package and what builds it; folders of tools, builds and caches.
LEFT_OUT = frozenset(['dbpool', 'setup.py', 'setup.cfg', 'MANIFEST.in', 'build', 'dist',
                      '__pycache__'])


def ignored(directory, names):
    """shutil.copytree's ignore: the names under directory not to copy."""
    return [name for name in names
            if name in LEFT_OUT or name.startswith('.') or name.endswith(('.egg-info', '.pyc'))]


def copy_suite(source, dest):
    if os.path.exists(dest):
        shutil.rmtree(dest)
    shutil.copytree(source, dest, ignore=ignored)
    if os.path.exists(os.path.join(dest, 'dbpool')):
        raise SystemExit('copy_suite: %s still has a dbpool folder' % dest)
    return dest


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print('copy_suite: the checkout without dbpool/ in %s' % copy_suite(sys.argv[1], sys.argv[2]))
