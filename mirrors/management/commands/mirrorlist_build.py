"""manage.py mirrorlist_build: build and publish a new mirrorlist table now."""

from django.core.management.base import BaseCommand

from mirrors.mirrorlist.services import mirrorlist_build


class Command(BaseCommand):
    help = "Build the mirrorlist table from the database and publish it to every web process."

    def handle(self, *args, **options) -> None:
        result = mirrorlist_build()
        self.stdout.write(
            f"mirrorlist snapshot v{result.version}: {result.collections} collections, {result.hosts} hosts, "
            f"{result.urls} URLs, {result.netblocks} netblocks, {result.size} bytes (sha256 {result.sha256[:12]}…)"
        )
