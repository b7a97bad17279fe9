"""django-db-pool: a pooled PostgreSQL backend for Django."""
import io
import os
import re

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read(*parts):
    with io.open(os.path.join(HERE, *parts), encoding='utf-8') as handle:
        return handle.read()


VERSION = re.search(r"^__version__ = '([^']+)'", read('dbpool', '__init__.py'), re.M).group(1)

setup(
    name='django-db-pool',
    version=VERSION,
    description='A pooled PostgreSQL database backend for Django: swap one ENGINE line.',
    long_description=read('README.md'),
    long_description_content_type='text/markdown',
    license='BSD-3-Clause',
    # Only our own package: nothing generic (no top-level 'compat') lands
    # in site-packages.
    packages=find_packages(include=['dbpool', 'dbpool.*']),
    python_requires='>=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, !=3.4.*, !=3.5.*',
    # Django and the driver stay the user's choice (psycopg2 or psycopg 3).
    install_requires=[],
    extras_require={
        'psycopg2': ['psycopg2-binary'],
        'psycopg': ['psycopg[binary]'],
    },
    classifiers=[
        'Framework :: Django',
        'Programming Language :: Python :: 2.7',
        'Programming Language :: Python :: 3',
        'Topic :: Database',
    ],
    entry_points={
        # The throwaway-PostgreSQL helpers for downstream test suites
        # (docs/testing.md); the plugin does nothing unless asked.
        'console_scripts': ['dbpool-pgcluster = dbpool.testing.pgcluster_cli:main'],
        'pytest11': ['dbpool.testing.pytest_plugin = dbpool.testing.pytest_plugin'],
    },
    zip_safe=False,
)
