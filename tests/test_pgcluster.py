"""Tests for dbpool.testing.pgcluster (no Django; Python 2.7 and 3.x)."""
from __future__ import absolute_import, division, print_function

import os
import subprocess

import pytest

from dbpool.testing.pgcluster import (
    PgCluster, database_settings_from_env, find_pg_bin, parse_database_url)


def settings(name='', user='', password='', host='', port=''):
    return {'NAME': name, 'USER': user, 'PASSWORD': password, 'HOST': host,
            'PORT': port}


@pytest.mark.parametrize('url, expected', [
    ('postgres://u:p@db.example:6432/app',
     settings('app', 'u', 'p', 'db.example', '6432')),
    ('postgresql://u:p@127.0.0.1:5432/app',
     settings('app', 'u', 'p', '127.0.0.1', '5432')),
    ('POSTGRES://u:p@h/app', settings('app', 'u', 'p', 'h')),
    ('postgres://u:p%40ss%3Aw%2Frd%20x@h:1/my%2Ddb',
     settings('my-db', 'u', 'p@ss:w/rd x', 'h', '1')),
    ('postgres://u:p:with:colons@h/db',
     settings('db', 'u', 'p:with:colons', 'h')),
    ('postgres://u@h/db', settings('db', 'u', '', 'h')),
    ('postgres://h', settings(host='h')),
    ('postgres:///db', settings('db')),
    ('postgres://u:p@[::1]:5433/db', settings('db', 'u', 'p', '::1', '5433')),
    ('postgres://u:p@h:5433/db?sslmode=disable',
     settings('db', 'u', 'p', 'h', '5433')),
    ('postgres://u:p@%2Fvar%2Frun%2Fpostgresql/db',
     settings('db', 'u', 'p', '/var/run/postgresql')),
])
def test_parse_database_url(url, expected):
    assert parse_database_url(url) == expected


@pytest.mark.parametrize('url', [
    'mysql://u:secret@h/db', 'sqlite:///x.db', 'not a url', '',
    'postgres://u:secret@h:port/db', 'postgres://u:secret@h:70000/db',
])
def test_parse_database_url_rejects(url):
    with pytest.raises(ValueError) as info:
        parse_database_url(url)
    assert 'secret' not in str(info.value)  # never echo the password


def test_settings_from_env_uses_database_url():
    env = {'DATABASE_URL': 'postgres://u:p@h:1/db'}
    assert database_settings_from_env(env) == (
        settings('db', 'u', 'p', 'h', '1'), None)


def test_url_round_trips_through_parse():
    cluster = PgCluster(port=5999, user='u ser', password="p@ss w:rd/'x",
                        dbname='my-db')
    assert parse_database_url(cluster.url()) == cluster.settings()
    assert 'p@ss' not in repr(cluster)


def psql(cluster, sql):
    out = subprocess.check_output(
        [find_pg_bin('psql'), '-X', '-w', '-tAc', sql],
        env=cluster.psql_env(), universal_newlines=True)
    return out.strip()


def test_real_cluster_start_restart_destroy():
    try:
        find_pg_bin('initdb')
    except RuntimeError as exc:
        pytest.skip(str(exc))
    with PgCluster(extra_conf={'work_mem': '8MB'}) as cluster:
        base_dir = cluster.base_dir
        assert cluster.is_running()
        assert psql(cluster, 'select current_user, current_database()') == \
            'dbpool|dbpool'
        assert psql(cluster, 'show work_mem') == '8MB'
        port = cluster.port
        cluster.restart()
        assert cluster.port == port
        assert psql(cluster, 'select 1') == '1'
        # Password auth is really enforced over TCP.
        env = dict(cluster.psql_env(), PGPASSWORD='wrong')
        with open(os.devnull, 'w') as devnull:
            assert subprocess.call(
                [find_pg_bin('psql'), '-X', '-w', '-c', 'select 1'], env=env,
                stdout=devnull, stderr=subprocess.STDOUT) != 0
    assert not cluster.is_running()
    assert not os.path.exists(base_dir)
    cluster.destroy()  # idempotent
