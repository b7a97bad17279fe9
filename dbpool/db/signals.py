"""Django's ``connection_created`` once per physical connection, and our per-checkout signal.

Django sends ``connection_created`` from every ``connect()``, and with the
pool every checkout is a ``connect()``. Receivers are meant for what a new
connection needs once (registering type adapters, session settings), so
it is sent only when a physical connection is handed out for the first time.

Session settings such a receiver makes (``SET search_path``,
``SET statement_timeout``, ``SET ROLE``) would be cleared by the reset on
return (RESET_ON_RETURN='full'); the pool records them right after the
receivers ran and puts them back with every reset, in the same round trip.

``connection_checked_out`` is sent at every checkout, after Django's own
set-up, for work that belongs to each borrower (per-request session state).
"""
from __future__ import absolute_import, division, print_function

import logging

from django.db.backends.signals import connection_created
from django.dispatch import Signal

logger = logging.getLogger('dbpool')

# Sent with sender=the wrapper class, connection=the Django wrapper, and
# new=True the first time the physical connection is handed out.
connection_checked_out = Signal()

# What connection_created receivers may have set, read once per physical
# connection. TimeZone is Django's own, which the reset already restores;
# transaction_* describe the open transaction (Django 1.3-1.5 are in one),
# not the session, and cannot be set once it ran a query.
SESSION_SETTINGS_SQL = (
    "SELECT name, current_setting(name) FROM pg_settings "
    "WHERE source = 'session' AND name <> 'TimeZone' AND name NOT LIKE 'transaction\\_%' "
    "UNION ALL SELECT 'role', current_user::text WHERE current_user <> session_user")


def _has_receivers(signal):
    # Signal.has_listeners() arrived in Django 1.6.
    has_listeners = getattr(signal, 'has_listeners', None)
    return has_listeners() if has_listeners is not None else bool(signal.receivers)


def _send_unless_reused(sender, **named):
    # Stands in for connection_created.send: skipped for a pooled wrapper
    # that just checked out a connection someone used before.
    entry = getattr(named.get('connection'), '_dbpool_entry', None)
    if entry is not None and not entry.is_first_checkout():
        return []
    return Signal.send(connection_created, sender, **named)


def send_connection_created_once():
    """Make Django's connect() send connection_created for new physical connections only.

    Django 1.6+ send it from connect(), which has no hook around it; the
    signal object's own send() is replaced (once, per process) by one that
    skips wrappers holding a reused pooled connection and otherwise sends
    as before, so stock wrappers of other aliases are unaffected.
    """
    if connection_created.__dict__.get('send') is not _send_unless_reused:
        connection_created.send = _send_unless_reused


def after_checkout(wrapper):
    """Once Django set up a checked-out connection: keep settings, record it clean, tell listeners."""
    entry = wrapper._dbpool_entry
    new = entry.is_first_checkout()
    if not entry.prepared:
        pool = wrapper._dbpool_pool
        if new and _has_receivers(connection_created):
            _keep_session_settings(pool, entry)
        # What Django and connection_created receivers set is the session's
        # clean state; what connection_checked_out receivers set belongs to
        # this borrower, and is reset after it.
        pool.session_prepared(entry)
    if connection_checked_out.receivers:
        connection_checked_out.send(sender=wrapper.__class__, connection=wrapper, new=new)


def _keep_session_settings(pool, entry):
    if not pool.resets_session():
        return  # RESET_ON_RETURN='rollback' leaves them in place anyway
    cursor = entry.connection.cursor()
    try:
        cursor.execute(SESSION_SETTINGS_SQL)
        found = cursor.fetchall()
    finally:
        cursor.close()
    if found:
        logger.info('dbpool: %s keeps what connection_created receivers set (%s) '
                    'across resets', pool.name, ', '.join(name for name, _ in found))
        pool.keep_session_settings(entry, found)
