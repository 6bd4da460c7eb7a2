"""manage.py upstream_remove NAME [--yes]."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.text import human_bytes
from sync.models import Upstream
from sync.services import upstream_remove


class Command(BaseCommand):
    help = "Remove an upstream and its projects and files from the catalogue (asks for --yes when it has files)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the upstream's name (see manage.py upstream_list)")
        parser.add_argument("--yes", action="store_true", help="remove it even though it has files")

    def handle(self, *args: object, **options: object) -> None:
        try:
            removal = upstream_remove(name=options["name"], confirmed=options["yes"])
        except Upstream.DoesNotExist:
            raise CommandError(f"no upstream named {options['name']!r} (see manage.py upstream_list)") from None
        except ValidationError as error:
            raise CommandError(f"upstream not removed: {' '.join(error.messages)}") from error
        held = f"{removal.projects} projects and {removal.files} files ({human_bytes(removal.stored_bytes)} stored)"
        consequences = (
            "the catalogue forgets them; the published collections keep them until `manage.py publish --full`;"
            " then `manage.py collect` deletes the blobs nothing references any more"
            " (`upstream_disable` stops syncing and keeps them)"
        )
        if not removal.removed:
            raise CommandError(
                f"upstream {removal.name} has {held}: {consequences}. Nothing removed: run again with --yes"
            )
        if removal.files:
            self.stdout.write(f"removed upstream {removal.name} with {held}: {consequences}")
        else:
            self.stdout.write(f"removed upstream {removal.name} (it had no files)")
