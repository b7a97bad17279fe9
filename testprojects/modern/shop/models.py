"""The demo's one model."""
from __future__ import absolute_import, division, print_function

from django.db import models
from django.utils import timezone

try:
    # compat: Django < 3.0 on Python 2, where __str__ must return bytes.
    from django.utils.encoding import python_2_unicode_compatible
except ImportError:  # Django 3.0+ (Python 3 only)
    def python_2_unicode_compatible(cls):
        return cls


@python_2_unicode_compatible
class Item(models.Model):
    name = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return '%s (%d)' % (self.name, self.quantity)

    def as_dict(self):
        return {'id': self.pk, 'name': self.name, 'quantity': self.quantity,
                'created': self.created.isoformat()}
