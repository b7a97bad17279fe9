"""Django's test settings with dbpool's ENGINE and a small pool."""
from __future__ import absolute_import

import logging
import sys

from djangosuite._common import DBPOOL_ENGINE, POOL_OPTIONS, test_settings

globals().update(test_settings(DBPOOL_ENGINE, POOL_OPTIONS))

# The pool's warnings (exhaustion, reclaimed connections) go to stderr next to
# the test that caused them, on Python 2.7 too (which has no lastResort handler).
_handler = logging.StreamHandler(sys.stderr)
_handler.setLevel(logging.WARNING)
_handler.setFormatter(logging.Formatter('%(message)s'))
logging.getLogger('dbpool').addHandler(_handler)
