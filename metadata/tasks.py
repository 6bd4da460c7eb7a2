"""Queue tasks of the metadata app: thin adapters over metadata.services."""

from __future__ import annotations

from metadata.models import Collection
from metadata.services import collection_publish, collections_publish_all


def publish_task(collection_slug: str | None = None, full: bool = False) -> list[int]:
    """Publish one collection (by slug) or all; the sync queues this after a sync that changed something.

    Returns the numbers of the new revisions (empty when nothing changed).
    """
    if collection_slug is None:
        return [revision.number for revision in collections_publish_all(full=full)]
    revision = collection_publish(collection=Collection.objects.get(slug=collection_slug), full=full)
    return [] if revision is None else [revision.number]
