"""manage.py upstream_add NAME URL [--include PAT ...] [--exclude PAT ...]."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sync.services import upstream_add


class Command(BaseCommand):
    help = "Register an upstream simple index (http, https or file:///path/simple/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="a short slug, e.g. main")
        parser.add_argument("url", help="root of the simple index, e.g. https://upstream.example/simple/")
        parser.add_argument("--include", nargs="+", default=[], metavar="PAT", help="only these projects (globs)")
        parser.add_argument("--exclude", nargs="+", default=[], metavar="PAT", help="never these projects (globs)")

    def handle(self, *args: object, **options: object) -> None:
        filters = {}
        if options["include"]:
            filters["include_projects"] = options["include"]
        if options["exclude"]:
            filters["exclude_projects"] = options["exclude"]
        try:
            upstream = upstream_add(name=options["name"], url=options["url"], filters=filters)
        except ValidationError as error:
            messages = (
                "; ".join(f"{field}: {' '.join(errors)}" for field, errors in error.message_dict.items())
                if hasattr(error, "message_dict")
                else " ".join(error.messages)
            )
            raise CommandError(f"upstream not added: {messages}") from error
        self.stdout.write(f"added upstream {upstream.name} at {upstream.url}")
