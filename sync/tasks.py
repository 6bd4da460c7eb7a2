"""Queue tasks (django-q2): thin adapters over the services; schedules in mirrormanager/schedules.py."""

from __future__ import annotations

from sync.blobstore import StoreBusy
from sync.models import Upstream
from sync.selectors import run_overdue_describe, runs_past_deadline
from sync.services import store_collect, store_verify, sync_all


def sync_all_task() -> dict[str, str]:
    """Sync every enabled upstream; returns {upstream: outcome}, or {"skipped": why} when a sync is running."""
    try:
        runs = sync_all()
    except StoreBusy as error:
        overdue = runs_past_deadline()
        if overdue:
            raise RuntimeError(f"nothing done: {run_overdue_describe(overdue[0])}") from error  # a failed task
        return {"skipped": str(error)}
    return {run.upstream.name if run.upstream else "?": run.outcome for run in runs}


def upstreams_sync_task(names: list[str]) -> dict[str, str]:
    """Sync these upstreams (the admin's "sync now", enabled or not); the same answer as sync_all_task."""
    upstreams = list(Upstream.objects.filter(name__in=names).order_by("name"))
    if not upstreams:
        return {"skipped": "no such upstream"}
    try:
        runs = sync_all(upstreams=upstreams)
    except StoreBusy as error:
        return {"skipped": str(error)}
    return {run.upstream.name if run.upstream else "?": run.outcome for run in runs}


def verify_task(quick: bool = False, repair: bool = False) -> str:
    """Verify the store (quick: only blobs whose size or mtime changed); returns the outcome or "skipped"."""
    try:
        return store_verify(quick=quick, repair=repair).outcome
    except StoreBusy:
        return "skipped"  # another verify is running


def collect_task() -> str:
    """Collect unreferenced blobs and stale temporary files; returns the outcome."""
    return store_collect().outcome
