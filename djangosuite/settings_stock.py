"""Django's test settings with the stock PostgreSQL ENGINE (the reference run)."""
from __future__ import absolute_import

from djangosuite._common import STOCK_ENGINE, test_settings

globals().update(test_settings(STOCK_ENGINE))
