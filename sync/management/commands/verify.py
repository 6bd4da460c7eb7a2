"""manage.py verify [--repair] [--quick]: re-hash the origin store."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sync.blobstore import StoreBusy
from sync.progress import progress_for, run_summary
from sync.services import store_verify


class Command(BaseCommand):
    help = "Re-hash every stored blob on every core; report (and with --repair, re-fetch) missing or corrupt ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repair", action="store_true", help="fetch damaged files again from their upstream")
        parser.add_argument(
            "--quick", action="store_true", help="only blobs whose size or mtime changed since the last full check"
        )

    def handle(self, *args: object, **options: object) -> None:
        progress = progress_for(self.stdout)
        try:
            run = store_verify(quick=options["quick"], repair=options["repair"], progress=progress)
        except StoreBusy as error:
            self.stdout.write(f"{error}, nothing done")
            return
        for line in run_summary(run, said=progress.said):
            self.stdout.write(line)
        if run.outcome != "ok":
            hint = "" if options["repair"] else " (run with --repair to fetch them again)"
            raise CommandError(f"{run.files_failed} damaged files left in the store{hint}")
