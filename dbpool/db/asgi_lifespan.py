"""An ASGI lifespan for Django's ASGI application: warm up at startup, drain at shutdown.

Django's ASGI handler refuses lifespan events, so servers (uvicorn,
hypercorn, daphne) have nowhere to start or end the pools. Wrap it::

    # asgi.py
    from django.core.asgi import get_asgi_application
    from dbpool.db.asgi_lifespan import with_lifespan

    application = with_lifespan(get_asgi_application())

Python 3 only, as ASGI is. See docs/lifecycle.md.
"""
from __future__ import absolute_import, division, print_function

import asyncio
import functools

from dbpool.db import lifecycle


def with_lifespan(application, aliases=None, warm_up=True,
                  drain_timeout=lifecycle.DRAIN_TIMEOUT_S):
    """``application`` answering the lifespan scope: warm_up() at startup, drain() at shutdown."""

    async def app(scope, receive, send):
        if scope['type'] != 'lifespan':
            return await application(scope, receive, send)
        loop = asyncio.get_event_loop()
        while True:
            message = await receive()
            if message['type'] == 'lifespan.startup':
                if warm_up:
                    # In a thread: the ORM may not run on the event loop.
                    await loop.run_in_executor(
                        None, functools.partial(lifecycle.warm_up, aliases))
                await send({'type': 'lifespan.startup.complete'})
            elif message['type'] == 'lifespan.shutdown':
                # The server sends it once its requests are done.
                await loop.run_in_executor(
                    None, functools.partial(lifecycle.drain, aliases, drain_timeout))
                await send({'type': 'lifespan.shutdown.complete'})
                return

    return app
