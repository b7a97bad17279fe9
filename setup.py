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
        # dbpool.rds_iam: AWS RDS IAM tokens as OPTIONS['CREDENTIALS'].
        'aws': ['boto3'],
        # dbpool.otel and dbpool.prometheus_collector (docs/observability.md).
        'otel': ['opentelemetry-api'],
        'prometheus': ['prometheus_client'],
    },
    # Every Django release of the test matrix (tox.ini) that has a trove
    # classifier: 1.3 has none. scripts/check_dist.py checks both ways.
    classifiers=[
        'Framework :: Django',
        'Framework :: Django :: 1.4',
        'Framework :: Django :: 1.5',
        'Framework :: Django :: 1.6',
        'Framework :: Django :: 1.7',
        'Framework :: Django :: 1.8',
        'Framework :: Django :: 1.9',
        'Framework :: Django :: 1.10',
        'Framework :: Django :: 1.11',
        'Framework :: Django :: 2.0',
        'Framework :: Django :: 2.1',
        'Framework :: Django :: 2.2',
        'Framework :: Django :: 3.0',
        'Framework :: Django :: 3.1',
        'Framework :: Django :: 3.2',
        'Framework :: Django :: 4.0',
        'Framework :: Django :: 4.1',
        'Framework :: Django :: 4.2',
        'Framework :: Django :: 5.0',
        'Framework :: Django :: 5.1',
        'Framework :: Django :: 5.2',
        'Framework :: Django :: 6.0',
        'Framework :: Django :: 6.1',
        'Programming Language :: Python :: 2',
        'Programming Language :: Python :: 2.7',
        'Programming Language :: Python :: 3',
        'Programming Language :: Python :: 3.6',
        'Programming Language :: Python :: 3.7',
        'Programming Language :: Python :: 3.8',
        'Programming Language :: Python :: 3.9',
        'Programming Language :: Python :: 3.10',
        'Programming Language :: Python :: 3.11',
        'Programming Language :: Python :: 3.12',
        'Programming Language :: Python :: 3.13',
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
