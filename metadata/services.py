"""Writes of the metadata app: publishing collections and recording their revisions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.db import transaction

from metadata.models import Collection, Revision
from metadata.publishing.linking_repair import RelinkResult, published_blobs_relink
from metadata.publishing.publisher import Publisher
from metadata.publishing.tree import PublishBusy
from metadata.signals import revision_committed

logger = logging.getLogger(__name__)


class PublishError(Exception):
    """One or more collections could not be published; the message says which and why."""


def _revision_record(collection: Collection, record: dict) -> Revision:
    """Store a committed revision (idempotent: a finished-after-crash journal may repeat it)."""
    info = record["revision"]
    timestamp = datetime.fromisoformat(info["timestamp"].replace("Z", "+00:00"))
    with transaction.atomic():
        revision, _ = Revision.objects.get_or_create(
            collection=collection,
            number=info["number"],
            defaults={
                "repomd_sha256": info["repomd_sha256"],
                "timestamp": timestamp,
                "upstream_serial": info["upstream_serial"],
                "projects": info["counts"]["projects"],
                "files": info["counts"]["files"],
                "bytes": info["counts"]["bytes"],
                "full": info["full"],
                "duration_seconds": info["duration_seconds"],
            },
        )
        Collection.objects.filter(pk=collection.pk).update(
            revision=info["number"], published_serial=record["published_serial"], published_at=timestamp
        )
    collection.refresh_from_db()
    return revision


def _published_serial_record(collection: Collection, serial: int) -> None:
    """A publish found nothing to change: remember the catalogue serial it has seen."""
    collection.published_serial = serial
    Collection.objects.filter(pk=collection.pk).update(published_serial=serial)


def collection_publish(
    *, collection: Collection, full: bool = False, on_busy: Callable[[Collection, str], None] | None = None
) -> Revision | None:
    """Publish one collection under MIRROR_ROOT/pub/<slug>/; None when nothing changed.

    Incremental unless `full` (or the filters changed, or there is no previous state): only
    projects whose change_serial is above the collection's published_serial are rewritten.
    Raises ValueError when the collection's filters are invalid (nothing is written then).
    When another publish of the collection is running, returns None at once (logged, and told to
    `on_busy` with the message): the running or the next publish picks the changes up.
    """
    try:
        collection.filter_spec()
    except ValueError as error:
        raise ValueError(f"collection {collection.slug!r} has invalid filters: {error}") from error
    committed: list[Revision] = []

    def record(collection: Collection, record: dict) -> Revision:
        revision = _revision_record(collection, record)
        committed.append(revision)
        return revision

    try:
        result = Publisher(
            collection, full=full, record_revision=record, record_unchanged=_published_serial_record
        ).run()
    except PublishBusy as busy:
        logger.info("%s: %s", collection.slug, busy)
        if on_busy is not None:
            on_busy(collection, str(busy))
        return None
    # Also a revision this run finished for a crashed publish. Not sent when the run failed: the
    # next run's recovery records the same revision again (idempotently) and sends it then.
    for revision in committed:
        revision_committed.send_robust(sender=Revision, collection=collection, revision=revision)
    return result


def collections_publish_all(
    *, full: bool = False, on_busy: Callable[[Collection, str], None] | None = None
) -> list[Revision]:
    """Publish every collection; return the new revisions (collections that changed).

    One failing collection does not stop the others: PublishError after trying them all. A busy
    collection is skipped (see collection_publish).
    """
    results: list[Revision] = []
    failures: list[str] = []
    for collection in Collection.objects.order_by("slug"):
        try:
            revision = collection_publish(collection=collection, full=full, on_busy=on_busy)
            if revision is not None:
                results.append(revision)
        except Exception as error:  # report every collection, then fail
            logger.exception("publishing %s failed", collection.slug)
            failures.append(f"{collection.slug}: {error}")
    if failures:
        raise PublishError("; ".join(failures))
    return results


def published_blobs_repair(*, sha256s: list[str]) -> RelinkResult:
    """Link every published name of these repaired blobs, in every collection, to the store's new blob now
    (metadata.publishing.linking_repair); what it replaced and what it could not."""
    return published_blobs_relink(sha256s)
