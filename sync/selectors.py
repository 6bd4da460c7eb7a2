"""Reads of the sync app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, Sum

from sync.models import File, Upstream


@dataclass(frozen=True)
class UpstreamSummary:
    name: str
    url: str
    enabled: bool
    projects: int
    files_stored: int
    bytes_stored: int
    last_synced_at: datetime | None


def upstream_summaries() -> list[UpstreamSummary]:
    """Every upstream with what the catalogue holds of it, by name."""
    stored = Q(projects__files__state=File.State.STORED)
    rows = Upstream.objects.annotate(
        project_count=Count("projects", filter=Q(projects__removed=False), distinct=True),
        files_stored=Count("projects__files", filter=stored),
        bytes_stored=Sum("projects__files__size", filter=stored),
    ).order_by("name")
    return [
        UpstreamSummary(
            name=row.name,
            url=row.url,
            enabled=row.enabled,
            projects=row.project_count,
            files_stored=row.files_stored,
            bytes_stored=row.bytes_stored or 0,
            last_synced_at=row.last_synced_at,
        )
        for row in rows
    ]
