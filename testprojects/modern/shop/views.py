"""JSON views: a read, a write inside atomic(), and the pool statistics."""
from __future__ import absolute_import, division, print_function

from django.db import connection, transaction
from django.http import HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

import dbpool

from shop.models import Item


def backend_pid():
    """The server process id of the connection serving this request."""
    with connection.cursor() as cursor:
        cursor.execute('SELECT pg_backend_pid()')
        return cursor.fetchone()[0]


def item_list(request):
    """GET /items/: a count, the latest five items, and who served them."""
    if request.method != 'GET':
        return HttpResponseNotAllowed(['GET'])
    latest = [item.as_dict() for item in Item.objects.order_by('-id')[:5]]
    return JsonResponse({
        'count': Item.objects.count(),
        'latest': latest,
        'backend_pid': backend_pid(),
    })


@csrf_exempt
def item_add(request):
    """POST (or GET) /items/add/: create one item inside transaction.atomic()."""
    if request.method not in ('GET', 'POST'):
        return HttpResponseNotAllowed(['GET', 'POST'])
    params = request.POST if request.method == 'POST' else request.GET
    name = params.get('name') or 'item'
    try:
        quantity = int(params.get('quantity') or 1)
    except ValueError:
        return JsonResponse({'error': 'quantity must be a whole number'}, status=400)
    with transaction.atomic():
        item = Item.objects.create(name=name[:100], quantity=max(quantity, 0))
        pid = backend_pid()
    return JsonResponse({'item': item.as_dict(), 'backend_pid': pid}, status=201)


def pool_stats(request):
    """GET /pool/: dbpool.pool_stats() of this process."""
    # A list, one dict per pool of this process (empty with the stock engine).
    return JsonResponse(dbpool.pool_stats(), safe=False)
