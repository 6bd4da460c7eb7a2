"""manage.py mirrorlist_build: build and publish a new mirrorlist table now."""

from django.core.management.base import BaseCommand

from mirrors.mirrorlist.services import mirrorlist_build_logged


class Command(BaseCommand):
    help = "Build the mirrorlist table from the database and publish it to every web process."

    def handle(self, *args, **options) -> None:
        mirrorlist_build_logged(self.stdout.write)
