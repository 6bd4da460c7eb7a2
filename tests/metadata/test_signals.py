"""The signals between the layers: the catalogue changed -> publication queued; a revision was committed."""

from __future__ import annotations

import pytest

from metadata.models import Revision
from metadata.services import collection_publish
from metadata.signals import revision_committed
from sync.models import StoreRun
from sync.signals import catalogue_changed
from tests.factories import BASE_PACKAGES

pytestmark = pytest.mark.django_db


def test_a_changed_catalogue_queues_publication_and_nothing_else(monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *args, **kwargs: queued.append(func))
    catalogue_changed.send(sender=StoreRun, runs=[])
    assert queued == ["metadata.tasks.publish_task"]


def test_a_receiver_that_cannot_queue_never_breaks_the_sender(monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("django_q.tasks.async_task", broken)
    catalogue_changed.send(sender=StoreRun, runs=[])  # logged, not raised


def test_revision_committed_is_sent_once_the_repomd_is_in_place(catalogue, full_collection, mirror_root):
    catalogue.add_all(BASE_PACKAGES[:2])
    seen = []

    def receiver(sender, collection, revision, **kwargs):
        repomd = mirror_root / "pub" / collection.slug / "repodata" / "repomd.json"
        seen.append((collection.slug, revision.number, repomd.is_file()))

    revision_committed.connect(receiver)
    try:
        revision = collection_publish(collection=full_collection)
        assert collection_publish(collection=full_collection) is None  # nothing changed: no revision, no signal
    finally:
        revision_committed.disconnect(receiver)
    assert isinstance(revision, Revision)
    assert seen == [("full", revision.number, True)]
