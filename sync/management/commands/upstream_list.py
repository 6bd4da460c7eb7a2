"""manage.py upstream_list: every upstream, enabled or not, with what the catalogue holds of it."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from core.text import human_bytes
from sync.selectors import upstream_summaries


class Command(BaseCommand):
    help = "List the upstreams: name, state, URL, projects, stored files and their size, last sync."

    def handle(self, *args: object, **options: object) -> None:
        rows = upstream_summaries()
        if not rows:
            self.stdout.write("no upstream yet: add one with manage.py upstream_add NAME URL")
            return
        for row in rows:
            synced = row.last_synced_at.strftime("%Y-%m-%d %H:%M UTC") if row.last_synced_at else "never"
            self.stdout.write(
                f"{row.name}  {'enabled' if row.enabled else 'disabled'}  {row.url}\n"
                f"    {row.projects} projects, {row.files_stored} files stored ({human_bytes(row.bytes_stored)}),"
                f" last synced {synced}"
            )
