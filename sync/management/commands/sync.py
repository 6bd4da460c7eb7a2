"""manage.py sync [--upstream NAME]: sync upstreams into the origin store."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

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
        for upstream in upstreams:
            run = upstream_sync(upstream=upstream, progress=progress_for(self.stdout), publish=False)
            runs.append(run)
            for line in run_summary(run):
                self.stdout.write(line)
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
