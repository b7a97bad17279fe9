"""The views the load calls, on the scenario's alias: one small query, a realistic page,
or a slow view (a query, a pause outside the database, a query)."""
from __future__ import absolute_import, division, print_function

import time

from django.db import transaction
from django.db.models import Count, Max
from django.http import HttpResponse, JsonResponse
from django.template import Context, Engine

from modes import SLOW_PAUSE_S
from shop.models import Item

PAGE = Engine().from_string(
    '<h1>{{ item.name }}</h1><p>{{ item.quantity }} in stock, {{ same }} alike, '
    'most {{ stats.most }}.</p><ul>{% for other in neighbours %}'
    '<li>{{ other.name }}: {{ other.quantity }}</li>{% endfor %}</ul>'
    '<ol>{% for name in names %}<li>{{ name }}</li>{% endfor %}</ol>'
    '{% if featured %}<p>featured</p>{% endif %}')


def item_detail(request, alias, pk):
    """GET /bench/<alias>/<pk>/: one item by primary key, as JSON."""
    item = Item.objects.using(alias).filter(pk=pk).values_list('name', 'quantity').first()
    return JsonResponse({'item': item})


def page(request, alias, pk):
    """GET /page/<alias>/<pk>/: what a shop's item page does, ten ORM queries and a template.

    Reads, then a stock check in atomic() (a row lock, an update, a nested
    block with its savepoint), then more reads; the update writes the value
    the row already has, so repeated runs leave the table as it was.
    """
    items = Item.objects.using(alias)
    item = items.get(pk=pk)
    neighbours = list(items.filter(pk__gt=pk).order_by('pk')[:5])
    same = items.filter(quantity=item.quantity).count()
    featured = items.filter(pk=pk, name__startswith='item-').exists()
    stats = items.filter(pk__lte=pk + 20).aggregate(most=Max('quantity'), count=Count('pk'))
    with transaction.atomic(using=alias):
        locked = items.select_for_update().get(pk=pk)
        items.filter(pk=pk).update(quantity=locked.quantity)
        with transaction.atomic(using=alias):
            items.filter(pk=pk).values_list('name', flat=True).first()
    names = list(items.filter(pk__in=[pk, pk + 1, pk + 2]).values_list('name', flat=True))
    list(items.order_by('-pk').values('pk', 'name')[:3])
    html = PAGE.render(Context({'item': item, 'neighbours': neighbours, 'same': same,
                                'stats': stats, 'names': names, 'featured': featured}))
    return HttpResponse(html)


def slow(request, alias, pk):
    """GET /slow/<alias>/<pk>/: a query, a 20 ms external call, a query, as JSON.

    The pause is time.sleep(), which releases the GIL, as a call to another
    service over the network would: the request needs no database meanwhile.
    """
    items = Item.objects.using(alias)
    item = items.filter(pk=pk).values_list('name', 'quantity').first()
    time.sleep(SLOW_PAUSE_S)
    stock = items.filter(pk=pk).values_list('quantity', flat=True).first()
    return JsonResponse({'item': item, 'stock': stock})
