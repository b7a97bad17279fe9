"""The tenant and domain models django-tenants needs (TENANT_MODEL, TENANT_DOMAIN_MODEL)."""
from __future__ import absolute_import, division, print_function

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Client(TenantMixin):
    name = models.CharField(max_length=50)


class Domain(DomainMixin):
    pass
