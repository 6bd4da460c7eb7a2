"""Writes of the mirrorlist: building and publishing a snapshot, and requesting a (debounced) rebuild."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from mirrors.mirrorlist import runtime
from mirrors.mirrorlist.build import mirrorlist_table_build
from mirrors.mirrorlist.engine.holder import SnapshotBlob, cache_write
from mirrors.mirrorlist.engine.table import table_sha256
from mirrors.mirrorlist.models import MirrorlistBuildFlag
from mirrors.mirrorlist.sources import RedisSource, redis_url
from mirrors.models import MirrorlistSnapshot

log = logging.getLogger(__name__)
KEEP_SNAPSHOTS = 5
# A queued build that has not started after this long is assumed lost (a worker died): queue another.
QUEUED_STALE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class BuildResult:
    version: int
    sha256: str
    size: int
    hosts: int
    urls: int
    netblocks: int
    collections: int


def mirrorlist_build() -> BuildResult:
    """Build a new table from the database and publish it: database row, Redis (when configured), local
    cache. Web processes pick it up within about a second."""
    for _attempt in range(5):
        version = (MirrorlistSnapshot.objects.aggregate(top=Max("version"))["top"] or 0) + 1
        table = mirrorlist_table_build(version=version)
        data = table.to_bytes()
        blob = SnapshotBlob(version, table_sha256(data), data)
        try:
            mirrorlist_snapshot_publish(blob=blob)
        except IntegrityError:
            continue  # another build took this version: build again on top of it
        break
    else:
        raise RuntimeError("could not publish a mirrorlist snapshot: versions kept colliding")
    urls = sum(len(entry.urls) for entry in table.collections.values())
    log.info("mirrorlist: built snapshot v%s (%s bytes, %s URLs)", version, len(data), urls)
    return BuildResult(version, blob.sha256, len(data), len(table.hosts), urls, table.netblocks.size,
                       len(table.collections))  # fmt: skip


def mirrorlist_snapshot_publish(*, blob: SnapshotBlob) -> None:
    """Store a built snapshot where every web process finds it: the database row (IntegrityError when its
    version is taken), Redis when configured, this machine's local cache; keep the last few rows."""
    with transaction.atomic():
        MirrorlistSnapshot.objects.create(version=blob.version, sha256=blob.sha256, data=blob.data)
    keep = list(MirrorlistSnapshot.objects.order_by("-version").values_list("version", flat=True)[:KEEP_SNAPSHOTS])
    MirrorlistSnapshot.objects.filter(version__lt=min(keep)).delete()
    url = redis_url()
    if url:
        try:
            RedisSource(url).publish(blob)
        except Exception as exc:  # web processes fall back to the database
            log.warning("mirrorlist: snapshot v%s not published to Redis: %s", blob.version, exc)
    cache_write(runtime.cache_path(), blob)


def mirrorlist_build_logged(log: Callable[[str], None]) -> BuildResult:
    """mirrorlist_build, saying what it built (the demo, commands)."""
    result = mirrorlist_build()
    log(
        f"mirrorlist snapshot v{result.version}: {result.collections} collections, {result.hosts} hosts, "
        f"{result.urls} URLs, {result.netblocks} netblocks, {result.size} bytes"
    )
    return result


def mirrorlist_rebuild_request() -> bool:
    """Queue one rebuild unless one is already queued and not started: a burst of changes queues one build.
    Returns True when it queued. Called from signal receivers, after the sender's transaction committed."""
    now = timezone.now()
    MirrorlistBuildFlag.objects.get_or_create(pk=1)
    claimed = MirrorlistBuildFlag.objects.filter(
        Q(queued_at__isnull=True) | Q(queued_at__lt=now - QUEUED_STALE_AFTER), pk=1
    ).update(queued_at=now)
    if not claimed:
        return False
    from django_q.tasks import async_task

    async_task("mirrors.mirrorlist.tasks.mirrorlist_build_task", task_name="mirrorlist_build")
    return True


def mirrorlist_build_queued() -> BuildResult:
    """The queued build: clear the flag first, so a change during the build queues the next one."""
    MirrorlistBuildFlag.objects.filter(pk=1).update(queued_at=None)
    return mirrorlist_build()
