"""Views for the concurrency tests (Django 3.1+, Python 3 only; tests/servers).

Async views reach the ORM through sync_to_async; ``process_state`` reports
the serving process's pools. Imported by demoproject/urls.py only on Django
3.1+, so the project still loads on Python 2.7.

An async view may not touch the ORM directly (Django raises
SynchronousOnlyOperation); these go through asgiref's ``sync_to_async``,
which runs the query in a worker thread whose Django connection comes from
the pool and goes back at the end of the request.
"""
import os

from asgiref.sync import sync_to_async
from django.http import JsonResponse

import dbpool

from shop.models import Item
from shop.views import backend_pid


def _latest():
    """The item count and the latest five items, and who served them (runs in a thread)."""
    latest = [item.as_dict() for item in Item.objects.order_by('-id')[:5]]
    return {'count': Item.objects.count(), 'latest': latest, 'backend_pid': backend_pid()}


async def item_list_async(request):
    """GET /async/items/: /items/ from an async view, via sync_to_async."""
    return JsonResponse(await sync_to_async(_latest)())


async def item_add_aorm(request):
    """GET /async/aorm/: Django 4.1+'s async ORM methods (acreate, aget, acount)."""
    # Each a-method runs its query through sync_to_async, in asgiref's
    # thread for this request, on a pooled connection.
    item = await Item.objects.acreate(name='async', quantity=1)
    again = await Item.objects.aget(pk=item.pk)
    count = await Item.objects.acount()
    return JsonResponse({'count': count, 'item': again.as_dict(),
                         'backend_pid': await sync_to_async(backend_pid)()})


async def orm_direct(request):
    """GET /async/direct/: the ORM called from the event loop; Django refuses (stock)."""
    return JsonResponse({'count': Item.objects.count()})


def process_state(request):
    """GET /process/: this server process's pid and its pools' statistics (no query)."""
    return JsonResponse({'pid': os.getpid(), 'pools': dbpool.pool_stats()})
