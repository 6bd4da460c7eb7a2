"""Reads of the sync app: upstreams with what the catalogue holds of them; runs past their deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from core.selectors import HealthReport
from sync.models import File, StoreRun, Upstream


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


# A run stops itself at SYNC_RUN_DEADLINE; it is "past its deadline" once this much longer has gone by
# (its last requests are cut at the deadline, and writing what it did takes moments).
DEADLINE_GRACE_SECONDS = 120


def run_deadline_passed(run: StoreRun) -> bool:
    """Is this sync run still running well past SYNC_RUN_DEADLINE (stuck, or killed without a trace)?"""
    if run.kind != StoreRun.Kind.SYNC or run.outcome != StoreRun.Outcome.RUNNING or not settings.SYNC_RUN_DEADLINE:
        return False
    limit = timedelta(seconds=settings.SYNC_RUN_DEADLINE + DEADLINE_GRACE_SECONDS)
    return run.started_at is not None and timezone.now() - run.started_at > limit


def runs_past_deadline() -> list[StoreRun]:
    """Sync runs still `running` past SYNC_RUN_DEADLINE (plus a grace), oldest first."""
    if not settings.SYNC_RUN_DEADLINE:
        return []
    cutoff = timezone.now() - timedelta(seconds=settings.SYNC_RUN_DEADLINE + DEADLINE_GRACE_SECONDS)
    return list(
        StoreRun.objects.filter(
            kind=StoreRun.Kind.SYNC, outcome=StoreRun.Outcome.RUNNING, started_at__lt=cutoff
        ).order_by("started_at")
    )


def run_overdue_describe(run: StoreRun) -> str:
    """One line on a run past its deadline, for /healthz, the admin and the sync command."""
    upstream = run.upstream.name if run.upstream_id and run.upstream else "?"
    return (
        f"sync run {run.pk} of {upstream}, started {run.started_at:%Y-%m-%d %H:%M:%S} UTC, is still running past "
        f"SYNC_RUN_DEADLINE={settings.SYNC_RUN_DEADLINE} s: it holds the store, so later syncs do nothing; "
        "is its process stuck?"
    )


def sync_health_check(report: HealthReport) -> None:
    """The health line of the sync: failing while a sync runs past its deadline."""
    overdue = runs_past_deadline()
    if overdue:
        report.add("sync", False, reason=run_overdue_describe(overdue[0]), overdue_runs=[run.pk for run in overdue])
    else:
        report.add("sync", True)


sync_health_check.health_name = "sync"  # type: ignore[attr-defined]
