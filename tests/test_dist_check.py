"""scripts/check_dist.py fails on an incomplete or wrongly tagged distribution.

The real build is checked by tox's wheel cells; these tests hand the checks
small distributions with one thing wrong and see it reported.
"""
from __future__ import absolute_import, division, print_function

import io
import os
import sys
import tarfile
import zipfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'scripts'))

import check_dist  # noqa: E402
import copy_suite  # noqa: E402

PACKAGE_FILES = {
    'dbpool/__init__.py': "__version__ = '1.2.3'\n",
    'dbpool/cli.py': 'def main():\n    pass\n',
    'dbpool/management/__init__.py': '',
    'dbpool/management/commands/__init__.py': '',
    'dbpool/management/commands/dbpool_status.py': '',
    'dbpool/templates/dbpool/status.html': '<p></p>\n',
}
UNIVERSAL = 'Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py2-none-any\nTag: py3-none-any\n'
ENTRY_POINTS = '[console_scripts]\ndbpool-x = dbpool.cli:main\n\n[pytest11]\ndbpool = dbpool.cli\n'
KNOWN = set(['Framework :: Django', 'Framework :: Django :: 1.4', 'Framework :: Django :: 6.1'])


def write(root, files):
    for name, text in files.items():
        path = os.path.join(root, *name.split('/'))
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with io.open(path, 'w', encoding='utf-8') as handle:
            handle.write(u'%s' % text)


@pytest.fixture
def root(tmpdir):
    root = str(tmpdir.join('checkout'))
    files = dict(PACKAGE_FILES)
    files.update({'setup.py': '', 'README.md': '# x\n', 'docs/index.md': '# docs\n',
                  'tests/test_x.py': '', 'dbpool/__pycache__/cli.cpython-313.pyc': ''})
    write(root, files)
    return root


def make_wheel(tmpdir, name='django_db_pool-1.2.3-py2.py3-none-any.whl', leave_out=(),
               extra=(), wheel_file=UNIVERSAL, entry_points=ENTRY_POINTS):
    path = str(tmpdir.join(name))
    info = 'django_db_pool-1.2.3.dist-info/'
    with zipfile.ZipFile(path, 'w') as wheel:
        for member, text in sorted(PACKAGE_FILES.items()):
            if member not in leave_out:
                wheel.writestr(member, text)
        for member in extra:
            wheel.writestr(member, '')
        wheel.writestr(info + 'WHEEL', wheel_file)
        wheel.writestr(info + 'METADATA', 'Metadata-Version: 2.1\nName: django-db-pool\n'
                                          'Version: 1.2.3\n')
        wheel.writestr(info + 'entry_points.txt', entry_points)
        wheel.writestr(info + 'RECORD', '')
    return path


def test_a_complete_universal_wheel_has_no_problems(tmpdir, root):
    assert check_dist.wheel_problems(make_wheel(tmpdir), root) == []


def test_a_wheel_missing_a_data_file_of_the_package_tree_is_a_failure(tmpdir, root):
    wheel = make_wheel(tmpdir, leave_out=['dbpool/templates/dbpool/status.html'])
    assert check_dist.wheel_problems(wheel, root) == [
        'the wheel lacks dbpool/templates/dbpool/status.html']


def test_a_wheel_missing_a_management_command_is_a_failure(tmpdir, root):
    wheel = make_wheel(tmpdir, leave_out=['dbpool/management/commands/dbpool_status.py'])
    assert check_dist.wheel_problems(wheel, root) == [
        'the wheel lacks dbpool/management/commands/dbpool_status.py']


def test_a_python_3_only_wheel_is_a_failure(tmpdir, root):
    wheel = make_wheel(tmpdir, name='django_db_pool-1.2.3-py3-none-any.whl',
                       wheel_file='Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n')
    assert check_dist.wheel_problems(wheel, root) == [
        'django_db_pool-1.2.3-py3-none-any.whl is not the universal py2.py3-none-any wheel',
        'WHEEL does not list the tag py2-none-any']


def test_a_top_level_module_beside_the_package_is_a_failure(tmpdir, root):
    wheel = make_wheel(tmpdir, extra=['compat/__init__.py'])
    assert check_dist.wheel_problems(wheel, root) == [
        'the wheel holds compat/__init__.py, which is not in the package tree']


def test_an_entry_point_naming_a_module_the_wheel_lacks_is_a_failure(tmpdir, root):
    wheel = make_wheel(tmpdir, entry_points=ENTRY_POINTS + 'dbpool-y = dbpool.gone:main\n')
    assert check_dist.wheel_problems(wheel, root) == [
        'entry point dbpool-y names dbpool.gone, which the wheel does not hold']


def make_sdist(tmpdir, root, leave_out=()):
    path = str(tmpdir.join('django_db_pool-1.2.3.tar.gz'))
    with tarfile.open(path, 'w:gz') as sdist:
        for name in check_dist.tree_files(root, '.'):
            name = name[2:] if name.startswith('./') else name
            if name not in leave_out:
                sdist.add(os.path.join(root, name), 'django_db_pool-1.2.3/' + name)
    return path


def test_a_complete_sdist_has_no_problems(tmpdir, root):
    assert check_dist.sdist_problems(make_sdist(tmpdir, root), root) == []


def test_an_sdist_without_the_readme_setup_py_reads_is_a_failure(tmpdir, root):
    sdist = make_sdist(tmpdir, root, leave_out=['README.md'])
    assert check_dist.sdist_problems(sdist, root) == ['the sdist lacks README.md']


def test_an_sdist_without_the_tests_is_a_failure(tmpdir, root):
    sdist = make_sdist(tmpdir, root, leave_out=['tests/test_x.py'])
    assert check_dist.sdist_problems(sdist, root) == ['the sdist lacks tests/test_x.py']


def test_the_django_classifiers_are_the_tested_releases_that_have_one():
    releases = check_dist.matrix_django_releases(
        'dj13: DBPOOL_EXPECT_DJANGO=1.3\ndj14: DBPOOL_EXPECT_DJANGO=1.4\n'
        'dj61: DBPOOL_EXPECT_DJANGO=6.1\n')
    assert releases == ['1.3', '1.4', '6.1']
    classifiers = ['Framework :: Django', 'Framework :: Django :: 1.4',
                   'Framework :: Django :: 6.1']
    # 1.3 has no trove classifier, so it is not asked for.
    assert check_dist.classifier_problems(classifiers, KNOWN, releases) == []


def test_a_tested_release_missing_from_the_classifiers_is_a_failure():
    problems = check_dist.classifier_problems(
        ['Framework :: Django :: 1.4'], KNOWN, ['1.4', '6.1'])
    assert problems == ['Django 6.1 is in the test matrix but not in the classifiers']


def test_an_unknown_classifier_and_an_untested_release_are_failures():
    problems = check_dist.classifier_problems(
        ['Framework :: Django :: 1.3', 'Framework :: Django :: 1.4'], KNOWN, ['1.3', '1.4'])
    assert problems == ["unknown trove classifier 'Framework :: Django :: 1.3' "
                        "(PyPI rejects the upload)"]
    problems = check_dist.classifier_problems(
        ['Framework :: Django :: 1.4', 'Framework :: Django :: 6.1'], KNOWN, ['1.4'])
    assert problems == ['Django 6.1 is in the classifiers but in no tox cell']


def test_the_copied_suite_has_the_tests_and_not_the_package(tmpdir, root):
    write(root, {'.tox/py313/lib/x.py': '', 'django_db_pool.egg-info/PKG-INFO': ''})
    dest = copy_suite.copy_suite(root, str(tmpdir.join('suite')))
    assert sorted(os.listdir(dest)) == ['README.md', 'docs', 'tests']
