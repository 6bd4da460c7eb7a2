"""Reads for the probes: what is due, the origin's revision history, and the series the charts draw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from metadata.models import Collection, Revision
from mirrors.models import HostState, HostURL, ProbeResult
from mirrors.probing.engine.types import RevisionBook, RevisionInfo

PROBED_HOST_STATES = (HostState.PENDING, HostState.APPROVED)


@dataclass(frozen=True)
class DueURL:
    """A URL to probe, with only what the run needs (a run over many URLs keeps these, not model rows)."""

    id: int
    url: str
    host_id: int
    collection_id: int
    collection_slug: str


def probed_urls() -> QuerySet[HostURL]:
    """The URLs the probes look at: of pending and approved hosts that their operators have switched on."""
    return HostURL.objects.filter(host__state__in=PROBED_HOST_STATES, host__enabled=True)


def due_urls(*, now: datetime, host_name: str | None = None) -> list[DueURL]:
    """URLs whose next probe is due (never probed ones first); with host_name, every URL of that host."""
    urls = probed_urls()
    if host_name is not None:
        urls = HostURL.objects.filter(host__name=host_name)
    else:
        urls = urls.filter(Q(next_probe_at__isnull=True) | Q(next_probe_at__lte=now))
    rows = urls.order_by("next_probe_at", "id").values_list("id", "url", "host_id", "collection_id", "collection__slug")
    return [DueURL(*row) for row in rows]


def revision_book(collection: Collection | int) -> RevisionBook:
    """A collection's published revisions, oldest first."""
    collection_id = collection if isinstance(collection, int) else collection.pk
    rows = Revision.objects.filter(collection_id=collection_id).values_list("number", "repomd_sha256", "timestamp")
    slug = Collection.objects.filter(pk=collection_id).values_list("slug", flat=True).first() or ""
    return RevisionBook(slug, tuple(RevisionInfo(number, sha, timestamp) for number, sha, timestamp in rows))


@dataclass(frozen=True)
class LagPoint:
    at: datetime
    lag_seconds: int | None  # None when the probe found no revision (broken)
    state: str
    family: int


def url_lag_series(host_url: HostURL, *, since: datetime) -> list[LagPoint]:
    """The URL's probe history since a time, oldest first."""
    rows = (
        ProbeResult.objects.filter(host_url=host_url, checked_at__gte=since)
        .order_by("checked_at")
        .values_list("checked_at", "lag_seconds", "state", "family")
    )
    return [LagPoint(*row) for row in rows]


@dataclass(frozen=True)
class PropagationCurve:
    """For one revision: at each probe time after it was published, the share of mirrors that had it."""

    number: int
    published_at: datetime
    points: tuple[tuple[int, float], ...]  # (seconds since publication, share 0..1)
    mirrors: int

    @property
    def share(self) -> float:
        """The share of mirrors that have it now."""
        return self.points[-1][1]

    @property
    def half_seconds(self) -> int | None:
        """Seconds until half the mirrors had it (None: not yet)."""
        return next((seconds for seconds, share in self.points if share >= 0.5), None)


def collection_propagation(
    collection: Collection, *, revisions: int = 5, public_only: bool = True, now: datetime
) -> list[PropagationCurve]:
    """How fast recent revisions reached the mirrors: a URL has revision r from its first probe at r or later.

    Counted over the collection's probed URLs (approved public hosts only unless public_only is False), each URL once
    however many address families it was probed over.
    """
    recent = list(Revision.objects.filter(collection=collection).order_by("-number")[:revisions])
    if not recent:
        return []
    urls = probed_urls().filter(collection=collection)
    if public_only:
        urls = urls.filter(host__private=False, host__state=HostState.APPROVED)
    url_ids = list(urls.values_list("id", flat=True))
    if not url_ids:
        return []
    oldest = min(revision.timestamp for revision in recent)
    history = (
        ProbeResult.objects.filter(host_url_id__in=url_ids, checked_at__gte=oldest, revision__isnull=False)
        .order_by("checked_at")
        .values_list("host_url_id", "checked_at", "revision")
    )
    first_seen: dict[int, dict[int, datetime]] = {revision.number: {} for revision in recent}
    for url_id, checked_at, number in history.iterator(chunk_size=2000):
        for revision in recent:
            if number >= revision.number and checked_at >= revision.timestamp:
                first_seen[revision.number].setdefault(url_id, checked_at)
    curves = []
    for revision in sorted(recent, key=lambda revision: revision.number):
        seen = sorted(first_seen[revision.number].values())
        points = [(0, 0.0)]
        for index, moment in enumerate(seen, start=1):
            points.append((int((moment - revision.timestamp).total_seconds()), index / len(url_ids)))
        horizon = int((now - revision.timestamp).total_seconds())
        if horizon > points[-1][0]:
            points.append((horizon, points[-1][1]))
        curves.append(PropagationCurve(revision.number, revision.timestamp, tuple(points), len(url_ids)))
    return curves
