"""The downstream tox recipe (docs/testing.md), run on our sample projects as on a user's.

testprojects/modern/tox.ini and testprojects/legacy/tox.ini are the recipe,
as a user's project would hold it. One cell of our matrix (tox.ini sets
DBPOOL_TEST_RECIPES there) runs real tox on some of their cells: a fresh env
with Django, the driver and dbpool installed, then ``dbpool-pgcluster run --
python manage.py test`` on a private cluster. Every cell checks that the
recipes pin each Django release as our own matrix does.
"""
from __future__ import absolute_import, division, print_function

import os
import re
import sys

import pytest

from tests.kit_support import environment_without_database_url, run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPES = {
    'modern': os.path.join(ROOT, 'testprojects', 'modern', 'tox.ini'),
    'legacy': os.path.join(ROOT, 'testprojects', 'legacy', 'tox.ini'),
}
# "py313-dj61,py27-dj16-south": the recipe cells this matrix cell must run.
CELLS = [cell for cell in os.environ.get('DBPOOL_TEST_RECIPES', '').split(',') if cell]


def deps_lines(path):
    """The [testenv] deps lines of a tox.ini, stripped, comments dropped."""
    with open(path) as handle:
        text = handle.read()
    block = re.search(r'^deps =\n((?:[ \t]+.*\n|\n)+)', text, re.M).group(1)
    return [line.strip() for line in block.splitlines()
            if line.strip() and not line.strip().startswith('#')]


def django_pins(path):
    """{factor: requirement} for the dj<N> factors of a tox.ini."""
    pins = {}
    for line in deps_lines(path):
        match = re.match(r'(dj\d+): (Django.*)$', line)
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


@pytest.mark.parametrize('recipe', sorted(RECIPES))
def test_the_recipe_pins_each_django_release_as_our_matrix_does(recipe):
    ours = django_pins(os.path.join(ROOT, 'tox.ini'))
    theirs = django_pins(RECIPES[recipe])
    assert theirs, 'no dj<N> pins found in %s' % RECIPES[recipe]
    for factor, requirement in theirs.items():
        assert ours.get(factor) == requirement, factor


def recipe_for(cell):
    return RECIPES['legacy' if 'south' in cell.split('-') else 'modern']


def tox_command():
    """How to run tox from here: the tox installed beside this interpreter."""
    try:
        import tox  # noqa: F401
    except ImportError:
        pytest.fail('DBPOOL_TEST_RECIPES is set but tox is not installed in this env: '
                    'add tox to the deps of this cell')
    return [sys.executable, '-m', 'tox']


def tox_environment():
    """Ours, minus what the outer tox set for its own env; dbpool from this checkout."""
    env = environment_without_database_url()
    for name in list(env):
        if name.startswith('TOX_') or name in ('VIRTUAL_ENV', 'PYTHONPATH', 'PYTHONHOME'):
            env.pop(name)
    # The checkout, editable: pip would otherwise copy the tree, .tox included.
    env['DBPOOL_REQUIREMENT'] = '-e ' + ROOT
    return env


@pytest.mark.skipif(not CELLS, reason='the recipes run in one cell of the matrix only '
                    '(DBPOOL_TEST_RECIPES, set in tox.ini for py313-dj61-psycopg3)')
@pytest.mark.parametrize('cell', CELLS)
def test_the_recipe_runs_the_projects_tests_on_a_private_cluster(cell):
    recipe = recipe_for(cell)
    args = tox_command() + ['-c', recipe, '-e', cell]
    workdir = os.environ.get('DBPOOL_RECIPE_WORKDIR')
    if workdir:  # reused between runs: the env is built once
        args += ['--workdir', workdir]
    code, out, err = run(args, env=tox_environment(), cwd=os.path.dirname(recipe))
    output = out + err
    assert code == 0, output
    assert 'dbpool-pgcluster: PostgreSQL on postgres://dbpool:***@127.0.0.1:' in output
    # The project's settings used the command's DATABASE_URL, not a cluster of their own.
    assert 'started a private PostgreSQL cluster' not in output
    assert re.search(r'Ran [1-9]\d* tests? in', output), output
    assert '\nOK' in output and 'FAILED' not in output
    assert '%s: OK' % cell in output or 'congratulations' in output


def test_the_recipe_command_is_the_one_documented():
    with open(os.path.join(ROOT, 'docs', 'testing.md')) as handle:
        docs = handle.read()
    for path in RECIPES.values():
        with open(path) as handle:
            command = re.search(r'^commands =\n\s+(.*)$', handle.read(), re.M).group(1)
        assert command in docs
