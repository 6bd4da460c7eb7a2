"""Where web processes find the newest snapshot: the database, or Redis when configured (then the database
when Redis does not answer)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import close_old_connections, connection

from mirrors.mirrorlist.engine.holder import SnapshotBlob
from mirrors.models import MirrorlistSnapshot

log = logging.getLogger(__name__)
REDIS_VERSION_KEY = "mirrorlist:version"
REDIS_SNAPSHOT_KEY = "mirrorlist:snapshot:{version}"
REDIS_SNAPSHOT_TTL = 24 * 3600


class DatabaseSource:
    def latest_version(self) -> int | None:
        return MirrorlistSnapshot.objects.order_by("-version").values_list("version", flat=True).first()

    def fetch(self, version: int) -> SnapshotBlob | None:
        row = MirrorlistSnapshot.objects.filter(version=version).values_list("sha256", "data").first()
        return None if row is None else SnapshotBlob(version, row[0], bytes(row[1]))

    def after_poll(self) -> None:
        # The poller thread keeps one connection; drop it when broken so that the next poll reconnects.
        close_old_connections()
        if connection.connection is not None and not connection.is_usable():
            connection.close()


class RedisSource:
    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def latest_version(self) -> int | None:
        raw = self.client.get(REDIS_VERSION_KEY)
        return int(raw) if raw is not None else None

    def fetch(self, version: int) -> SnapshotBlob | None:
        fields = self.client.hgetall(REDIS_SNAPSHOT_KEY.format(version=version))
        if not fields:
            return None
        return SnapshotBlob(version, fields[b"sha256"].decode("ascii"), fields[b"data"])

    def publish(self, blob: SnapshotBlob) -> None:
        key = REDIS_SNAPSHOT_KEY.format(version=blob.version)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, mapping={"sha256": blob.sha256, "data": blob.data})
        pipe.expire(key, REDIS_SNAPSHOT_TTL)
        pipe.set(REDIS_VERSION_KEY, blob.version)
        pipe.execute()


class FallbackSource:
    """Redis first, the database when Redis fails or has nothing."""

    def __init__(self, first: RedisSource, second: DatabaseSource) -> None:
        self.first, self.second = first, second

    def latest_version(self) -> int | None:
        try:
            version = self.first.latest_version()
        except Exception as exc:
            log.warning("mirrorlist: Redis unavailable, asking the database: %s", exc)
            version = None
        return version if version is not None else self.second.latest_version()

    def fetch(self, version: int) -> SnapshotBlob | None:
        try:
            blob = self.first.fetch(version)
        except Exception:
            blob = None
        return blob if blob is not None else self.second.fetch(version)

    def after_poll(self) -> None:
        self.second.after_poll()


def redis_url() -> str | None:
    return settings.MIRRORLIST_REDIS_URL


def snapshot_source() -> DatabaseSource | FallbackSource:
    url = redis_url()
    return FallbackSource(RedisSource(url), DatabaseSource()) if url else DatabaseSource()
