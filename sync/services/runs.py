"""Writes of SyncRun rows shared by sync, verify and collect."""

from __future__ import annotations

from django.utils import timezone

from sync.models import SyncRun


def runs_fail_stale(*, kind: str, current: SyncRun) -> int:
    """Mark runs of this kind still `running` (other than current) as failed: interrupted.

    Call only while holding the lock that makes runs of this kind exclusive (the store lock for
    sync and collect, the verify lock for verify): then none of them is alive, they died with their
    process (kill -9, power loss). Returns how many were marked.
    """
    return (
        SyncRun.objects.filter(kind=kind, outcome=SyncRun.Outcome.RUNNING)
        .exclude(pk=current.pk)
        .update(outcome=SyncRun.Outcome.FAILED, message="interrupted: the process died", finished_at=timezone.now())
    )
