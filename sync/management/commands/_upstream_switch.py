"""What upstream_enable and upstream_disable share."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sync.models import Upstream
from sync.services import upstream_enabled_set


class SwitchCommand(BaseCommand):
    enabled = True
    said = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the upstream's name (see manage.py upstream_list)")

    def handle(self, *args: object, **options: object) -> None:
        try:
            upstream = upstream_enabled_set(name=options["name"], enabled=self.enabled)
        except Upstream.DoesNotExist:
            raise CommandError(f"no upstream named {options['name']!r} (see manage.py upstream_list)") from None
        self.stdout.write(self.said.format(name=upstream.name))
