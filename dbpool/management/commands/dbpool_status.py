"""``manage.py dbpool_status [--json] [--no-server] [--database ALIAS]``: pool state.

Found by Django when ``'dbpool'`` is in INSTALLED_APPS. The report itself
is built by dbpool.db.status.
"""
from __future__ import absolute_import, division, print_function

import json

from django.core.management.base import BaseCommand

from dbpool.db import status

HELP = ("Print each pooled database alias's settings, this process's pool statistics "
        "and the server's view of its sessions.")


class Command(BaseCommand):
    help = HELP

    if not hasattr(BaseCommand, 'add_arguments'):
        # Django 1.3-1.7 read optparse options from option_list (1.8-1.9
        # still would, with a deprecation warning, so only where needed).
        from optparse import make_option
        option_list = BaseCommand.option_list + (
            make_option('--json', action='store_true', dest='json', default=False,
                        help='Print one JSON document instead of text.'),
            make_option('--no-server', action='store_false', dest='server', default=True,
                        help='Do not connect to the server (no session counts).'),
            make_option('--database', action='append', dest='aliases', default=None,
                        help='Only this alias (repeatable).'),
        )
        del make_option

    def add_arguments(self, parser):
        parser.add_argument('--json', action='store_true', dest='json', default=False,
                            help='Print one JSON document instead of text.')
        parser.add_argument('--no-server', action='store_false', dest='server', default=True,
                            help='Do not connect to the server (no session counts).')
        parser.add_argument('--database', action='append', dest='aliases', default=None,
                            help='Only this alias (repeatable).')

    def handle(self, *args, **options):
        report = status.collect(aliases=options.get('aliases'),
                                server=options.get('server', True))
        if options.get('json'):
            text = json.dumps(report, indent=2, sort_keys=True)
        else:
            text = status.format_text(report)
        self.stdout.write(text + '\n')
