"""manage.py probe [--host NAME]: probe the mirror URLs that are due now (or every URL of one host)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mirrors.models import Host
from mirrors.probing.services import probes_run


class Command(BaseCommand):
    help = "Probe the mirror URLs that are due (or, with --host, every URL of that host now) and record the results."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", metavar="NAME", help="probe every URL of this host, due or not")

    def handle(self, *args: object, **options: object) -> None:
        name = options["host"]
        if name and not Host.objects.filter(name=name).exists():
            raise CommandError(f"no host named {name!r}")
        summary = probes_run(host_name=name)
        if summary is None:
            self.stdout.write("no mirror URL is due for a probe")
            return
        self.stdout.write(summary.run.summary)
        for result in summary.run.results.select_related("host_url").order_by("host_url__url", "family"):
            family = f" IPv{result.family}" if result.family else ""
            reason = f": {result.reason}" if result.reason else ""
            self.stdout.write(f"  {result.host_url.url}{family} {result.state}{reason}")
