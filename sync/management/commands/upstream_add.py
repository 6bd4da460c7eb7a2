"""manage.py upstream_add NAME URL [--include PAT ...] [--exclude PAT ...] [--no-check]."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sync.services import upstream_add, upstream_add_checked
from sync.services.upstreams import CHECK_CODES


def validation_message(error: ValidationError) -> str:
    """One line: "field: message; field: message" (or the messages of a non-field error)."""
    if hasattr(error, "error_dict"):
        return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in error.message_dict.items())
    return " ".join(error.messages)


class Command(BaseCommand):
    help = (
        "Register an upstream simple index (http, https or file:///path/simple/) once its root page answers and"
        " parses (--no-check to skip)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="a short slug, e.g. main")
        parser.add_argument("url", help="root of the simple index, e.g. https://upstream.example/simple/")
        parser.add_argument("--include", nargs="+", default=[], metavar="PAT", help="only these projects (globs)")
        parser.add_argument("--exclude", nargs="+", default=[], metavar="PAT", help="never these projects (globs)")
        parser.add_argument(
            "--no-check", action="store_true", help="register without fetching the root page (it may be down now)"
        )

    def handle(self, *args: object, **options: object) -> None:
        filters = {}
        if options["include"]:
            filters["include_projects"] = options["include"]
        if options["exclude"]:
            filters["exclude_projects"] = options["exclude"]
        try:
            if options["no_check"]:
                upstream, check = upstream_add(name=options["name"], url=options["url"], filters=filters), None
            else:
                added = upstream_add_checked(name=options["name"], url=options["url"], filters=filters)
                upstream, check = added.upstream, added.check
        except ValidationError as error:
            codes = {item.code for item in getattr(error, "error_dict", {}).get("url", [])}
            hint = " (use --no-check to register it anyway)" if codes & CHECK_CODES else ""
            raise CommandError(f"upstream not added: {validation_message(error)}{hint}") from error
        said = f"added upstream {upstream.name} at {upstream.url}"
        if check is None:
            said += " (not checked)"
        else:
            said += f": its root page lists {check.projects} projects"
        self.stdout.write(f"{said}; `manage.py sync --upstream {upstream.name}` fetches them")
