"""Django's ``connection_created`` once per physical connection, and our per-checkout signal.

Django sends ``connection_created`` from every ``connect()``, and with the
pool every checkout is a ``connect()``. Receivers are meant for what a new
connection needs once (registering type adapters, session settings), so
it is sent only when a physical connection is handed out for the first time.

Session settings such a receiver makes (``SET search_path``,
``SET statement_timeout``, ``SET ROLE``) would be cleared by the reset on
return (RESET_ON_RETURN='full'); the pool puts them back with every reset,
in the same round trip. Only what the receivers changed is kept: the
session is read just before they run and again just after. What was set
before them belongs to whoever connected: django-tenants' ``SET
search_path`` for the tenant of the moment runs inside Django's connect()
(its server version check makes a cursor), and keeping it would start
every later borrower on that tenant's schema.

``connection_checked_out`` is sent at every checkout, after Django's own
set-up, for work that belongs to each borrower (per-request session state).
"""
from __future__ import absolute_import, division, print_function

import logging

from django.db.backends.signals import connection_created
from django.dispatch import Signal

from dbpool import tracking
from dbpool.db import scope

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
    wrapper = named.get('connection')
    entry = getattr(wrapper, '_dbpool_entry', None)
    if entry is None:
        return Signal.send(connection_created, sender, **named)
    if not (entry.is_first_checkout() or entry.set_up_again):
        return []
    return _send_keeping_settings(wrapper, sender, named)


def send_connection_created(wrapper):
    """Send connection_created for a pooled wrapper's new physical connection (1.3-1.5)."""
    return _send_keeping_settings(wrapper, wrapper.__class__, {'connection': wrapper})


def _send_keeping_settings(wrapper, sender, named):
    # Read only when something may change the session and a reset would
    # undo it: one round trip before and one after, once per physical
    # connection, and none without receivers (the usual case).
    pool, entry = wrapper._dbpool_pool, wrapper._dbpool_entry
    entry.set_up_again = False
    # Judged before the receivers run: what they set is kept, and clean.
    wrapper._dbpool_connect_changed = _connect_changed_session(entry)
    watch = pool.resets_session() and _has_receivers(connection_created)
    before = dict(_session_settings(entry.connection)) if watch else None
    responses = Signal.send(connection_created, sender, **named)
    if watch:
        _keep_changed_settings(pool, entry, before, _session_settings(entry.connection))
    return responses


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
    scope.begin_borrow(wrapper)
    new = entry.is_first_checkout()
    changed = new and getattr(wrapper, '_dbpool_connect_changed', False)
    wrapper._dbpool_connect_changed = False
    if not entry.prepared and not changed:
        # What Django and connection_created receivers set is the session's
        # clean state; what connection_checked_out receivers set belongs to
        # this borrower, and is reset after it.
        wrapper._dbpool_pool.session_prepared(entry)
    if connection_checked_out.receivers:
        connection_checked_out.send(sender=wrapper.__class__, connection=wrapper, new=new)


def after_lent_again(wrapper):
    """The wrapper took back the connection it gave back after its last statement."""
    scope.begin_borrow(wrapper)
    if connection_checked_out.receivers:
        connection_checked_out.send(sender=wrapper.__class__, connection=wrapper, new=False)


def _connect_changed_session(entry):
    # The first connect() of a physical connection may leave what belongs to
    # its borrower: django-tenants sets the tenant's search_path inside it,
    # through Django's server version check. When it changed anything (no
    # round trip to know), after_checkout does not record the session as
    # clean: the first checkin compares it with the session as opened (and
    # resets it), and the clean state is recorded at the next checkout,
    # whose connect() repeats Django's own set-up only. Without tracking the
    # reset is full anyway.
    return entry.clean is not None and tracking.session_changed(entry.connection, entry.clean)


def _session_settings(connection):
    """(name, value) of the session's own settings, role last (SESSION_SETTINGS_SQL)."""
    cursor = connection.cursor()
    try:
        cursor.execute(SESSION_SETTINGS_SQL)
        return cursor.fetchall()
    finally:
        cursor.close()


def _keep_changed_settings(pool, entry, before, after):
    # In the server's order, role last: set back after the others, which
    # the role might not be allowed to set. A setting the receivers put back
    # to its default is not in ``after``: the reset restores it anyway.
    changed = [(name, value) for name, value in after if before.get(name) != value]
    if changed:
        logger.info('dbpool: %s keeps what connection_created receivers set (%s) '
                    'across resets', pool.name, ', '.join(name for name, _ in changed))
        pool.keep_session_settings(entry, changed)
