"""The RDS IAM provider: tokens from boto3 itself, with fake AWS credentials and no network.

boto3's ``generate_db_auth_token`` presigns locally, so fake keys give a
real token (one RDS would refuse, which is all a test can ask). The cache
is driven by an injected clock. boto3 is installed in the tox cells whose
DBPOOL_REQUIRE names it; elsewhere these tests skip, saying so, except the
ones that need no boto3.
"""
from __future__ import absolute_import, division, print_function

import threading
import time

import pytest

from dbpool import rds_iam
from dbpool.credentials import apply_credentials
from tests.support import required_tools

try:
    from urllib.parse import parse_qs, urlsplit
except ImportError:  # Python 2.7
    from urlparse import parse_qs, urlsplit

ACCESS_KEY = 'AKIAIOSFODNN7EXAMPLE'
SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
HOST = 'orders.c9akciq32rlm.eu-west-1.rds.amazonaws.com'
PARAMS = {'host': HOST, 'port': 5432, 'user': 'app', 'dbname': 'orders'}


def need_boto3():
    try:
        import boto3
    except ImportError as exc:
        if 'boto3' in required_tools():
            pytest.fail('boto3 is required in this cell (DBPOOL_REQUIRE) but cannot be '
                        'imported: %s' % exc, pytrace=False)
        pytest.skip("boto3 is not installed here (the 'aws' extra; a tox dep of the cells "
                    'whose DBPOOL_REQUIRE names boto3)')
    return boto3


@pytest.fixture
def no_aws_environment(monkeypatch, tmpdir):
    """No real AWS configuration, credentials or instance metadata can be reached."""
    for name in ('AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_REGION',
                 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('AWS_CONFIG_FILE', str(tmpdir.join('config')))
    monkeypatch.setenv('AWS_SHARED_CREDENTIALS_FILE', str(tmpdir.join('credentials')))
    monkeypatch.setenv('AWS_EC2_METADATA_DISABLED', 'true')


@pytest.fixture
def session(no_aws_environment):
    boto3 = need_boto3()
    return boto3.session.Session(aws_access_key_id=ACCESS_KEY,
                                 aws_secret_access_key=SECRET_KEY)


class Clock(object):
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class CountingCredentials(rds_iam.RDSIAMCredentials):
    """Counts the tokens signed (boto3 gives the same text twice within one second)."""

    delay_s = 0.0

    def __init__(self, *args, **kwargs):
        super(CountingCredentials, self).__init__(*args, **kwargs)
        self.signed = []

    def generate(self, host, port, user, region):
        time.sleep(self.delay_s)
        self.signed.append((host, port, user, region))
        return super(CountingCredentials, self).generate(host, port, user, region)


def query_of(token):
    parts = urlsplit('https://' + token)
    return parts, dict((name, values[0]) for name, values in parse_qs(parts.query).items())


def test_the_token_is_boto3s_presigned_connect_url_for_the_endpoint_user_and_region(session):
    token = rds_iam.RDSIAMCredentials(session=session)('default', PARAMS)
    parts, query = query_of(token)
    assert (parts.hostname, parts.port, parts.path) == (HOST, 5432, '/')
    assert query['Action'] == 'connect'
    assert query['DBUser'] == 'app'
    assert query['X-Amz-Algorithm'] == 'AWS4-HMAC-SHA256'
    assert query['X-Amz-Expires'] == '900'  # what TOKEN_LIFETIME_S assumes
    credential = query['X-Amz-Credential'].split('/')
    assert credential[0] == ACCESS_KEY
    assert credential[2:] == ['eu-west-1', 'rds-db', 'aws4_request']  # region from the host
    assert len(query['X-Amz-Signature']) == 64
    assert SECRET_KEY not in token


def test_the_ready_provider_reads_the_usual_aws_environment(no_aws_environment, monkeypatch):
    need_boto3()
    monkeypatch.setenv('AWS_ACCESS_KEY_ID', ACCESS_KEY)
    monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', SECRET_KEY)
    monkeypatch.setenv('AWS_DEFAULT_REGION', 'us-east-2')
    provider = rds_iam.RDSIAMCredentials()
    _, query = query_of(provider('default', dict(PARAMS, host='db.internal.example', port='6432')))
    assert query['X-Amz-Credential'].split('/')[2] == 'us-east-2'  # not in the host: boto3's
    assert isinstance(rds_iam.credentials, rds_iam.RDSIAMCredentials)


def test_a_region_given_to_the_provider_wins_over_the_hosts(session):
    token = rds_iam.RDSIAMCredentials(region='ap-south-1', session=session)('default', PARAMS)
    assert query_of(token)[1]['X-Amz-Credential'].split('/')[2] == 'ap-south-1'


def test_a_token_is_reused_until_refresh_before_s_before_it_expires(session):
    clock = Clock()
    provider = CountingCredentials(session=session, refresh_before_s=120, clock=clock)
    first = provider('default', PARAMS)
    clock.now += 900 - 120 - 0.5
    assert provider('default', PARAMS) == first
    assert len(provider.signed) == 1
    clock.now += 0.5  # 13 minutes after signing: a new one
    provider('default', PARAMS)
    assert len(provider.signed) == 2
    provider('default', PARAMS)
    assert len(provider.signed) == 2


def test_each_endpoint_and_user_has_its_own_token(session):
    provider = CountingCredentials(session=session, clock=Clock())
    app = provider('default', PARAMS)
    report = provider('default', dict(PARAMS, user='report'))
    replica = provider('replica', dict(PARAMS, host=HOST.replace('orders.', 'orders-ro.')))
    assert query_of(report)[1]['DBUser'] == 'report'
    assert len(set([app, report, replica])) == 3
    assert len(provider.signed) == 3
    provider('default', PARAMS)
    assert len(provider.signed) == 3


def test_threads_that_need_a_token_at_once_wait_for_one_signing(session):
    provider = CountingCredentials(session=session)
    provider.delay_s = 0.1  # long enough for every thread to arrive meanwhile
    tokens = []
    threads = [threading.Thread(target=lambda: tokens.append(provider('default', PARAMS)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(tokens) == 8 and len(set(tokens)) == 1
    assert len(provider.signed) == 1


def test_the_cached_token_is_never_shown_by_the_providers_repr_or_state(session):
    provider = rds_iam.RDSIAMCredentials(session=session)
    token = provider('default', PARAMS)
    assert token not in repr(provider)
    assert token not in repr(vars(provider)) and token not in str(vars(provider))
    assert provider('default', PARAMS) == token
    assert type(provider('default', PARAMS)) is str  # the driver gets plain text


def test_the_token_becomes_the_connections_password(session):
    provider = rds_iam.RDSIAMCredentials(session=session)
    params = apply_credentials(provider, 'default', dict(PARAMS, password=''), 'here')
    assert params['password'].startswith(HOST + ':5432/?')


def test_forget_drops_the_cached_tokens(session):
    provider = CountingCredentials(session=session, clock=Clock())
    provider('default', PARAMS)
    provider.forget()
    provider('default', PARAMS)
    assert len(provider.signed) == 2


# -- What needs no boto3 ------------------------------------------------------------

@pytest.mark.parametrize('params,says', [
    (dict(PARAMS, host=''), 'set HOST'),
    (dict(PARAMS, host='/var/run/postgresql'), 'set HOST'),
    (dict(PARAMS, host=HOST + ',' + HOST), 'set HOST'),
    (dict(PARAMS, user=''), 'set USER'),
    (dict(PARAMS, port='pg'), 'PORT must be a port number'),
])
def test_an_endpoint_a_token_cannot_be_signed_for_is_refused_with_what_to_set(params, says):
    with pytest.raises(ValueError) as raised:
        rds_iam.RDSIAMCredentials(region='eu-west-1')('default', params)
    assert says in str(raised.value)


def test_without_boto3_the_provider_says_which_extra_to_install(monkeypatch):
    monkeypatch.setattr(rds_iam, 'boto3', None)
    with pytest.raises(ImportError) as raised:
        rds_iam.RDSIAMCredentials()('default', PARAMS)
    assert "pip install 'django-db-pool[aws]'" in str(raised.value)


def test_a_refresh_margin_of_a_whole_lifetime_is_refused():
    with pytest.raises(ValueError) as raised:
        rds_iam.RDSIAMCredentials(refresh_before_s=900)
    assert 'refresh_before_s=900' in str(raised.value)

