"""Fixtures of the probe tests: an origin with a revision history, and settings for probes on 127.0.0.1."""

from __future__ import annotations

import pytest

from metadata.models import Collection
from tests.factories import RevisionFactory
from tests.mirrors.probing.trees import History, make_history


@pytest.fixture
def probe_settings(settings):
    settings.PROBE_ALLOW_PRIVATE = True
    settings.PROBE_CONNECT_TIMEOUT = 2
    settings.PROBE_READ_TIMEOUT = 1
    settings.PROBE_SAMPLE_FILES = 2
    settings.PROBE_WORKERS = 8
    settings.PROBE_PER_HOST = 2
    settings.PROBE_DISABLE_AFTER = 2
    settings.PROBE_VOID_MIN_URLS = 4
    settings.PROBE_VOID_FRACTION = 0.5
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings


def history_publish(history: History, mirror_root) -> Collection:
    """Write the origin's tree and its Revision rows; the collection's slug is the history's."""
    collection, _ = Collection.objects.get_or_create(slug=history.slug, defaults={"title": history.slug})
    history.write_origin(mirror_root / "pub")
    for revision in history.revisions:
        RevisionFactory(
            collection=collection, number=revision.number, repomd_sha256=revision.sha256, timestamp=revision.timestamp
        )
    collection.revision = history.revisions[-1].number
    collection.save(update_fields=["revision"])
    return collection


@pytest.fixture
def origin(db, mirror_root):
    """The collection `full` with six revisions, one an hour, the last about an hour ago."""
    history = make_history("full", 6)
    history.collection = history_publish(history, mirror_root)
    return history
