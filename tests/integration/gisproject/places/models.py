"""Two geometry models in a planar SRID (metres), so every release computes
distances the same way, without GDAL transformations."""
from __future__ import absolute_import, division, print_function

from django.contrib.gis.db import models

SRID = 3857  # web mercator, in PostGIS's spatial_ref_sys


def _manager():
    # Spatial lookups need GeoManager before Django 1.9; 2.0 removed it.
    return getattr(models, 'GeoManager', models.Manager)()


class Place(models.Model):
    name = models.CharField(max_length=50)
    location = models.PointField(srid=SRID)

    objects = _manager()

    class Meta:
        app_label = 'places'


class Zone(models.Model):
    name = models.CharField(max_length=50)
    area = models.PolygonField(srid=SRID)

    objects = _manager()

    class Meta:
        app_label = 'places'
