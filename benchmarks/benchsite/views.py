"""The view the load calls: one small ORM query, on the scenario's alias."""
from __future__ import absolute_import, division, print_function

from django.http import JsonResponse

from shop.models import Item


def item_detail(request, alias, pk):
    """GET /bench/<alias>/<pk>/: one item by primary key, as JSON."""
    item = Item.objects.using(alias).filter(pk=pk).values_list('name', 'quantity').first()
    return JsonResponse({'item': item})
