"""A gunicorn config file as docs/lifecycle.md recommends: dbpool's worker hooks."""
from dbpool.db.gunicorn_hooks import post_worker_init, worker_exit  # noqa: F401

graceful_timeout = 20
