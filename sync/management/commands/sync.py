"""manage.py sync [--upstream NAME]: sync upstreams into the origin store."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sync.blobstore import StoreBusy
from sync.models import StoreRun, Upstream
from sync.progress import progress_for, run_summary, runs_failures_describe
from sync.selectors import run_overdue_describe, runs_past_deadline
from sync.services import sync_all


class Command(BaseCommand):
    help = "Sync every enabled upstream (or one) into the origin store; exits non-zero if anything failed."
    # System checks (URLs, admin, API schema) cost a few hundred ms per run and say nothing about
    # a sync; `manage.py check` and every server start still run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--upstream", metavar="NAME", help="sync only this upstream (even if disabled)")
        parser.add_argument(
            "--allow-mass-removal",
            action="store_true",
            help="remove projects gone upstream even when they are more than SYNC_MAX_REMOVE_FRACTION of them",
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["upstream"]:
            upstreams = list(Upstream.objects.filter(name=options["upstream"]))
            if not upstreams:
                raise CommandError(f"no upstream named {options['upstream']!r} (see manage.py upstream_add)")
        else:
            upstreams = list(Upstream.objects.filter(enabled=True))
            if not upstreams:
                raise CommandError("no enabled upstream: add one with manage.py upstream_add NAME URL")
        runs: list[StoreRun] = []
        progress = progress_for(self.stdout)

        def finished(run: StoreRun) -> None:
            runs.append(run)
            for line in run_summary(run, said=progress.said):
                self.stdout.write(line)

        try:
            sync_all(
                upstreams=upstreams,
                progress=progress,
                allow_mass_removal=options["allow_mass_removal"],
                on_run=finished,
            )
        except StoreBusy as error:
            overdue = runs_past_deadline()
            if overdue:
                # The one holding the store is stuck: saying "all is well" would hide a stale origin.
                raise CommandError(f"nothing done: {run_overdue_describe(overdue[0])}") from error
            # Not a failure: the sync that holds the store does the work (no run is recorded).
            self.stdout.write(f"another sync is running, nothing done: {error}")
        failures = runs_failures_describe(runs)
        if failures:
            raise CommandError(failures)
