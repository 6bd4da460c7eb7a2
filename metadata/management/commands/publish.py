"""manage.py publish [--collection SLUG] [--full]: publish collections as static trees."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.text import human_bytes
from metadata.models import Collection, Revision
from metadata.services import PublishError, collection_publish, collections_publish_all


class Command(BaseCommand):
    help = "Publish collections under MIRROR_ROOT/pub/<slug>/ (incremental unless --full)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--collection", metavar="SLUG", help="Only this collection (default: all)")
        parser.add_argument("--full", action="store_true", help="Rebuild every page (writes only what differs)")

    def handle(self, *args, collection: str | None = None, full: bool = False, **options) -> None:
        # A collection another publish holds is reported and skipped; the command still succeeds.
        busy: dict[str, str] = {}

        def on_busy(target: Collection, message: str) -> None:
            busy[target.slug] = message

        if collection is not None:
            try:
                target = Collection.objects.get(slug=collection)
            except Collection.DoesNotExist:
                known = ", ".join(Collection.objects.values_list("slug", flat=True)) or "none"
                raise CommandError(f"no collection {collection!r} (known: {known})") from None
            try:
                revision = collection_publish(collection=target, full=full, on_busy=on_busy)
            except ValueError as error:
                raise CommandError(str(error)) from error
            self._report(target.slug, revision, busy, full=full)
            return
        try:
            revisions = collections_publish_all(full=full, on_busy=on_busy)
        except PublishError as error:
            raise CommandError(f"publication failed: {error}") from error
        published = {revision.collection.slug: revision for revision in revisions}
        for slug in Collection.objects.order_by("slug").values_list("slug", flat=True):
            self._report(slug, published.get(slug), busy, full=full)

    def _report(self, slug: str, revision: Revision | None, busy: dict[str, str], *, full: bool) -> None:
        if slug in busy:
            self.stdout.write(f"{slug}: {busy[slug]}")
        elif revision is None:
            self.stdout.write(f"{slug}: {self._unchanged(slug, full=full)}")
        else:
            self.stdout.write(
                f"{slug}: revision {revision.number}, {revision.projects} projects, {revision.files} files,"
                f" {human_bytes(revision.bytes)}, repomd sha256 {revision.repomd_sha256}"
            )

    @staticmethod
    def _unchanged(slug: str, *, full: bool) -> str:
        """What a publish that made no revision looked at."""
        current = Revision.objects.filter(collection__slug=slug).order_by("-number").first()
        if current is None:
            return "nothing to publish"
        if full:
            return (
                f"every page and data file checked in full ({current.projects} projects, {current.files} files):"
                f" the tree is revision {current.number} as published, no new revision"
            )
        return f"nothing changed since revision {current.number} (--full checks every page again)"
