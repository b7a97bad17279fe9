"""AWS RDS IAM authentication tokens as OPTIONS['CREDENTIALS'] (``pip install django-db-pool[aws]``).

An RDS (or Aurora, or RDS Proxy) endpoint with IAM database authentication
takes a token made by boto3's own ``generate_db_auth_token`` in place of a
password. A token is a URL presigned locally with the process' AWS
credentials (no network call once they are known), and is accepted for 15
minutes after it is made; only a new connection shows it, so connections
already open are not affected when it expires.

``RDSIAMCredentials`` makes one token per (host, port, user, region) and
gives the same one to every new connection until ``refresh_before_s``
seconds before it expires, so a pool opening ten connections signs once.
It is thread-safe, and makes one token at a time: threads that need the
same token meanwhile wait for it rather than sign again.

``credentials`` is a ready instance for the dotted path
``'dbpool.rds_iam.credentials'``: the region comes from the endpoint's
name (``*.<region>.rds.amazonaws.com``), else from boto3's configuration.
"""
from __future__ import absolute_import, division, print_function

import re
import threading

from dbpool import secrets
from dbpool.pycompat import monotonic

try:
    import boto3
except ImportError:  # the optional extra: the core runs without it
    boto3 = None

# RDS accepts a token for 15 minutes after it is signed (boto3 signs with
# X-Amz-Expires=900).
TOKEN_LIFETIME_S = 900.0
# A token is replaced this long before it expires: a connection may take a
# while to open (connect_timeout is 10 s), and clocks drift.
REFRESH_BEFORE_S = 120.0
DEFAULT_PORT = 5432

# <instance>.<id>.<region>.rds.amazonaws.com (also .com.cn), and the proxy
# and cluster endpoints, which have the same tail.
_REGION_IN_HOST = re.compile(r'\.([a-z]{2}(?:-[a-z]+)+-\d+)\.rds\.amazonaws\.com(?:\.cn)?\.?$')


class RDSIAMCredentials(object):
    """A CREDENTIALS provider: an RDS IAM token as the password, cached until shortly before it expires."""

    def __init__(self, region=None, session=None, refresh_before_s=REFRESH_BEFORE_S,
                 clock=monotonic):
        if not 0 <= refresh_before_s < TOKEN_LIFETIME_S:
            raise ValueError('refresh_before_s=%r must be at least 0 and less than the '
                             "token's lifetime, %d s" % (refresh_before_s, TOKEN_LIFETIME_S))
        self.region = region
        self.refresh_before_s = float(refresh_before_s)
        self._session = session  # a boto3 Session; made on first use if None
        self._clock = clock
        self._lock = threading.Lock()
        self._clients = {}  # region -> boto3 'rds' client
        # (host, port, user, region) -> (the token, hidden, and the clock's
        # time to replace it)
        self._tokens = {}

    def __call__(self, alias, params):
        """The token for the endpoint and user in ``params`` (a CREDENTIALS provider)."""
        host, port, user = self._target(params)
        # One lock for reading and signing: a thread that finds the token
        # missing or old signs it while the others wait for that one.
        with self._lock:
            region = self._region_for(host)
            key = (host, port, user, region)
            cached = self._tokens.get(key)
            now = self._clock()
            if cached is not None and now < cached[1]:
                return secrets.reveal(cached[0])
            token = self.generate(host, port, user, region)
            # Timed from before signing: the token cannot be older than that.
            self._tokens[key] = (secrets.hide('password', token),
                                 now + TOKEN_LIFETIME_S - self.refresh_before_s)
        return token

    def generate(self, host, port, user, region):
        """A new token from boto3's ``generate_db_auth_token`` (called holding the lock)."""
        # boto3 Sessions are not thread-safe; the lock makes this one's
        # clients one at a time (the clients themselves are).
        client = self._clients.get(region)
        if client is None:
            client = self._clients[region] = self._boto3_session().client(
                'rds', region_name=region)
        return client.generate_db_auth_token(
            DBHostname=host, Port=port, DBUsername=user, Region=region)

    def forget(self):
        """Drop every cached token: the next connection signs a new one."""
        with self._lock:
            self._tokens.clear()

    def __repr__(self):
        return '<RDSIAMCredentials region=%s refresh_before_s=%s>' % (
            self.region or 'from the host', self.refresh_before_s)

    def _boto3_session(self):
        if self._session is None:
            if boto3 is None:
                raise ImportError("dbpool.rds_iam needs boto3: pip install "
                                  "'django-db-pool[aws]' (or boto3)")
            # A Session of its own, not boto3's shared default one.
            self._session = boto3.session.Session()
        return self._session

    def _target(self, params):
        host = params.get('host')
        user = params.get('user')
        if not host or host.startswith('/') or ',' in host:
            raise ValueError('an RDS IAM token is signed for one endpoint: set HOST to the '
                             "instance's, cluster's or proxy's host name")
        if not user:
            raise ValueError('an RDS IAM token is signed for one database user: set USER')
        port = params.get('port') or DEFAULT_PORT
        try:
            port = int(port)
        except (TypeError, ValueError):
            raise ValueError('PORT must be a port number for an RDS IAM token')
        return host, port, user

    def _region_for(self, host):
        if self.region:
            return self.region
        found = _REGION_IN_HOST.search(host.lower())
        if found is not None:
            return found.group(1)
        region = self._boto3_session().region_name
        if not region:
            raise ValueError(
                "the AWS region of host '%s' is unknown: give it, as "
                'RDSIAMCredentials(region=...) or AWS_REGION / AWS_DEFAULT_REGION' % host)
        return region


# The ready provider for OPTIONS['CREDENTIALS'] = 'dbpool.rds_iam.credentials'.
credentials = RDSIAMCredentials()
