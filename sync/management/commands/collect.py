"""manage.py collect: delete blobs that nothing references any more."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sync.progress import progress_for, run_summary
from sync.services import store_collect


class Command(BaseCommand):
    help = "Delete store blobs that no catalogue file and no published tree references, and stale temp files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--min-age", type=float, default=None, metavar="SECONDS", help="keep blobs younger than this"
        )

    def handle(self, *args: object, **options: object) -> None:
        progress = progress_for(self.stdout)
        run = store_collect(min_age_seconds=options["min_age"], progress=progress)
        for line in run_summary(run, said=progress.said):
            self.stdout.write(line)
        if run.outcome != "ok":
            raise CommandError(f"collect did not complete ({run.outcome}): see the summary above")
