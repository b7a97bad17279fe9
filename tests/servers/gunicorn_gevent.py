"""gunicorn configuration for gevent workers with psycopg2 (``-c`` this file).

psycopg2 waits for the server inside libpq, which gevent cannot see: each
query would block every greenlet of the worker. psycogreen installs a wait
callback that waits through gevent instead. psycopg 3 needs nothing: it
notices gevent's monkey patching when it is imported, after the worker
patched (so never combine gevent workers with --preload).
"""


def post_fork(server, worker):
    try:
        import psycopg2  # noqa: F401
    except ImportError:  # psycopg 3 cooperates with gevent on its own
        return
    from psycogreen.gevent import patch_psycopg
    patch_psycopg()
