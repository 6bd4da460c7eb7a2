"""Writes of StoreRun rows shared by sync, verify and collect: stale runs, and the counters of a running sync."""

from __future__ import annotations

from django.utils import timezone

from sync.engine.text import storable_text
from sync.models import StoreRun

# A run keeps this many failures by name; the rest are counted.
MAX_RECORDED_FAILURES = 500


def runs_fail_stale(*, kind: str, current: StoreRun) -> int:
    """Mark runs of this kind still `running` (other than current) as failed: interrupted.

    Call only while holding the lock that makes runs of this kind exclusive (the store lock for
    sync and collect, the verify lock for verify): then none of them is alive, they died with their
    process (kill -9, power loss). Returns how many were marked.
    """
    return (
        StoreRun.objects.filter(kind=kind, outcome=StoreRun.Outcome.RUNNING)
        .exclude(pk=current.pk)
        .update(outcome=StoreRun.Outcome.FAILED, message="interrupted: the process died", finished_at=timezone.now())
    )


class RunState:
    """The counters of a run, saved to its StoreRun row now and then and at the end."""

    def __init__(self, run: StoreRun) -> None:
        self.run = run
        self.outcome: str | None = None
        self.message = ""
        self.failures_total = 0
        self.problems = 0  # run-level failures (e.g. the mass removal guard): partial, not ok
        self.adopted = 0  # files found already in the store (a resumed run), not downloaded

    def fail(self, *, project: str, filename: str = "", reason: str) -> None:
        self.failures_total += 1
        if len(self.run.failures) < MAX_RECORDED_FAILURES:
            # Names come from the upstream: bounded, whatever it sends.
            self.run.failures.append(
                {
                    "project": storable_text(project, 250),
                    "filename": storable_text(filename, 300),
                    "reason": storable_text(reason, 2000),
                }
            )

    def save(self, *, final: bool = False) -> None:
        run = self.run
        if final:
            if self.outcome is None:
                failed = run.files_failed or run.projects_failed or self.problems
                self.outcome = StoreRun.Outcome.PARTIAL if failed else StoreRun.Outcome.OK
            run.outcome = self.outcome
            run.finished_at = timezone.now()
            hidden = self.failures_total - len(run.failures)
            notes = [self.message] if self.message else []
            if self.adopted:
                notes.append(f"{self.adopted} files were already in the store (verified, not downloaded)")
            if hidden > 0:
                notes.append(f"{hidden} more failures not listed")
            run.message = storable_text("; ".join(notes))
        run.save()
