"""A table every schema has, with the schema's own rows."""
from __future__ import absolute_import, division, print_function

from django.db import models


class Note(models.Model):
    name = models.CharField(max_length=50)
