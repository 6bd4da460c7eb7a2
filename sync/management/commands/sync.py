"""manage.py sync [--upstream NAME]: sync upstreams into the origin store."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sync.blobstore import StoreBusy
from sync.models import Upstream
from sync.progress import progress_for, run_summary
from sync.services import publication_queue, run_changed, upstream_sync


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
        runs = []
        try:
            for upstream in upstreams:
                run = upstream_sync(
                    upstream=upstream,
                    progress=progress_for(self.stdout),
                    publish=False,
                    allow_mass_removal=options["allow_mass_removal"],
                )
                runs.append(run)
                for line in run_summary(run):
                    self.stdout.write(line)
        except StoreBusy as error:
            # Not a failure: the sync that holds the store does the work (no run is recorded).
            self.stdout.write(f"another sync is running, nothing done: {error}")
        finally:
            if any(run_changed(run) for run in runs):
                publication_queue()
        bad = [run for run in runs if run.outcome != "ok"]
        if bad:
            names = []
            for run in bad:
                names.extend(
                    f"{failure.get('filename') or failure.get('project')}" for failure in (run.failures or [])[:10]
                )
                if run.outcome == "failed":
                    names.append(f"{run.upstream.name}: {run.message}")
            raise CommandError(f"{len(bad)} of {len(runs)} syncs did not complete: {', '.join(names)}")
