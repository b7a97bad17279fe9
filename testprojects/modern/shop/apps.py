from __future__ import absolute_import, division, print_function

from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = 'shop'
    verbose_name = 'Shop (dbpool demo)'
