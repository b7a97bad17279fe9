"""Build the sdist and the wheel, and check them before anything installs them.

    python scripts/check_dist.py OUTDIR

Builds both into OUTDIR with ``python -m build`` (the wheel from the sdist,
so the sdist is proved complete enough to build), runs ``twine check
--strict``, and fails unless:

- the wheel is the universal one, ``py2.py3-none-any``;
- the wheel holds every file of the package tree (``dbpool/``, bytecode
  aside) and nothing else but its ``.dist-info``;
- the sdist holds the package tree, the files setup.py reads, and the
  documentation and tests MANIFEST.in adds;
- the metadata has the source tree's version, and every entry point names
  a module the wheel holds;
- every classifier is a known trove classifier, and the ``Framework ::
  Django :: X.Y`` ones are exactly the releases of tox.ini's matrix that
  have one.

It builds from a copy of the checkout without build leftovers (no
``*.egg-info``, whose stale SOURCES.txt setuptools would add to the sdist,
and which the editable cells rewrite while this runs beside them).

tox's wheel cells build through this script (``[testenv:.pkg_external]``
in tox.ini); when OUTDIR already holds a build of this tox run it checks that
build again instead of building a second one.
"""
from __future__ import absolute_import, division, print_function

import email.parser
import glob
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = 'dbpool'
# What MANIFEST.in adds to the sdist, besides the package setup.py finds.
SDIST_FILES = ('setup.py', 'setup.cfg', 'MANIFEST.in', 'README.md', 'CHANGELOG.md', 'tox.ini')
SDIST_TREES = ('docs', 'tests', 'testprojects')
DJANGO_CLASSIFIER = 'Framework :: Django :: '


def tree_files(root, top):
    """Files under root/top as '/'-separated paths from root, bytecode aside."""
    found = []
    for directory, dirs, files in os.walk(os.path.join(root, top)):
        dirs[:] = sorted(name for name in dirs if name != '__pycache__' and not name.startswith('.'))
        for name in files:
            if name.endswith(('.pyc', '.pyo')) or name.startswith('.'):
                continue
            path = os.path.relpath(os.path.join(directory, name), root)
            found.append(path.replace(os.sep, '/'))
    return sorted(found)


def source_version(root):
    with io.open(os.path.join(root, PACKAGE, '__init__.py'), encoding='utf-8') as handle:
        return re.search(r"^__version__ = '([^']+)'", handle.read(), re.M).group(1)


def matrix_django_releases(tox_ini_text):
    """The Django releases the tox cells expect ('1.3', ..., '6.1')."""
    return sorted(set(re.findall(r'DBPOOL_EXPECT_DJANGO=(\d+\.\d+)', tox_ini_text)),
                  key=lambda release: tuple(int(part) for part in release.split('.')))


def classifier_problems(classifiers, known, django_releases):
    """What is wrong with a distribution's classifiers, as sentences."""
    problems = ['unknown trove classifier %r (PyPI rejects the upload)' % name
                for name in classifiers if name not in known]
    claimed = set(name[len(DJANGO_CLASSIFIER):] for name in classifiers
                  if name.startswith(DJANGO_CLASSIFIER))
    tested = set(release for release in django_releases
                 if DJANGO_CLASSIFIER + release in known)
    problems += ['Django %s is in the test matrix but not in the classifiers' % release
                 for release in sorted(tested - claimed)]
    problems += ['Django %s is in the classifiers but in no tox cell' % release
                 for release in sorted(claimed - set(django_releases))]
    return problems


def parse_metadata(text):
    return email.parser.Parser().parsestr(text)


def wheel_problems(wheel_path, root):
    """What is wrong with the wheel at wheel_path, as sentences."""
    problems = []
    if not os.path.basename(wheel_path).endswith('-py2.py3-none-any.whl'):
        problems.append('%s is not the universal py2.py3-none-any wheel'
                        % os.path.basename(wheel_path))
    with zipfile.ZipFile(wheel_path) as wheel:
        names = wheel.namelist()
        info = sorted(set(name.split('/')[0] for name in names if '.dist-info/' in name))
        if len(info) != 1:
            return problems + ['the wheel has %d .dist-info folders, not one' % len(info)]
        info = info[0]

        def read(name):
            return wheel.read(info + '/' + name).decode('utf-8')

        tags = parse_metadata(read('WHEEL'))
        for tag in ('py2-none-any', 'py3-none-any'):
            if tag not in (tags.get_all('Tag') or []):
                problems.append('WHEEL does not list the tag %s' % tag)
        if (tags.get('Root-Is-Purelib') or '').lower() != 'true':
            problems.append('WHEEL does not say Root-Is-Purelib: true')
        metadata = parse_metadata(read('METADATA'))
        entry_points = read('entry_points.txt') if info + '/entry_points.txt' in names else ''
    contents = set(name for name in names if not name.startswith(info + '/'))
    expected = set(tree_files(root, PACKAGE))
    problems += ['the wheel lacks %s' % name for name in sorted(expected - contents)]
    problems += ['the wheel holds %s, which is not in the package tree' % name
                 for name in sorted(contents - expected)]
    if metadata.get('Version') != source_version(root):
        problems.append('the wheel is version %s, the source tree %s'
                        % (metadata.get('Version'), source_version(root)))
    problems += entry_point_problems(entry_points, contents)
    return problems


def entry_point_problems(entry_points, contents):
    """Each entry point must name a module the wheel holds."""
    problems = []
    sections = re.findall(r'^\[([^\]]+)\]', entry_points, re.M)
    for section in ('console_scripts', 'pytest11'):
        if section not in sections:
            problems.append('entry_points.txt has no [%s] section' % section)
    for name, module in re.findall(r'^\s*([^\s=\[]+)\s*=\s*([\w.]+)', entry_points, re.M):
        path = module.replace('.', '/')
        if path + '.py' not in contents and path + '/__init__.py' not in contents:
            problems.append('entry point %s names %s, which the wheel does not hold' % (name, module))
    return problems


def sdist_problems(sdist_path, root):
    """What is wrong with the sdist at sdist_path, as sentences."""
    with tarfile.open(sdist_path) as sdist:
        names = [member.name for member in sdist.getmembers() if member.isfile()]
    # Every member sits in one top folder, django_db_pool-VERSION/.
    contents = set(name.split('/', 1)[1] for name in names if '/' in name)
    expected = set(tree_files(root, PACKAGE))
    expected.update(name for name in SDIST_FILES if os.path.exists(os.path.join(root, name)))
    for top in SDIST_TREES:
        expected.update(tree_files(root, top))
    return ['the sdist lacks %s' % name for name in sorted(expected - contents)]


def run(*args):
    print('+ ' + ' '.join(args))
    sys.stdout.flush()
    return subprocess.call(list(args))


def built(outdir):
    return (sorted(glob.glob(os.path.join(outdir, '*.whl'))),
            sorted(glob.glob(os.path.join(outdir, '*.tar.gz'))))


def leftovers(directory, names):
    """shutil.copytree's ignore: tool folders, builds and bytecode."""
    return [name for name in names
            if name.startswith('.') or name in ('build', 'dist', '__pycache__')
            or name.endswith(('.egg-info', '.pyc', '.pyo'))]


def build(outdir):
    scratch = tempfile.mkdtemp(prefix='dbpool-dist-')
    try:
        source = os.path.join(scratch, 'checkout')
        shutil.copytree(ROOT, source, ignore=leftovers)
        return run(sys.executable, '-m', 'build', '--outdir', os.path.abspath(outdir), source)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(outdir):
    wheels, sdists = built(outdir)
    if wheels or sdists:
        print('checking the build already in %s' % outdir)
    elif build(outdir) != 0:
        return 'python -m build failed'
    wheels, sdists = built(outdir)
    if len(wheels) != 1 or len(sdists) != 1:
        return 'expected one wheel and one sdist in %s, found %s' % (outdir, wheels + sdists)
    if run(sys.executable, '-m', 'twine', 'check', '--strict', wheels[0], sdists[0]) != 0:
        return 'twine check failed'
    import trove_classifiers
    with zipfile.ZipFile(wheels[0]) as wheel:
        info = [name for name in wheel.namelist() if name.endswith('.dist-info/METADATA')][0]
        classifiers = parse_metadata(wheel.read(info).decode('utf-8')).get_all('Classifier') or []
    with io.open(os.path.join(ROOT, 'tox.ini'), encoding='utf-8') as handle:
        releases = matrix_django_releases(handle.read())
    problems = (wheel_problems(wheels[0], ROOT) + sdist_problems(sdists[0], ROOT)
                + classifier_problems(classifiers, trove_classifiers.classifiers, releases))
    for problem in problems:
        print('check_dist: ' + problem, file=sys.stderr)
    if problems:
        return '%d problem(s) with the distributions' % len(problems)
    unclassified = [release for release in releases
                    if DJANGO_CLASSIFIER + release not in trove_classifiers.classifiers]
    print('check_dist: %s and %s are complete (%d package files; no trove classifier '
          'for Django %s)' % (os.path.basename(wheels[0]), os.path.basename(sdists[0]),
                              len(tree_files(ROOT, PACKAGE)), ', '.join(unclassified) or '-'))
    return 0


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
