#!/usr/bin/env python
"""Django's command-line utility for the dbpool demo project."""
from __future__ import absolute_import, division, print_function

import os
import sys


def main():
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'demoproject.settings')
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)


if __name__ == '__main__':
    main()
