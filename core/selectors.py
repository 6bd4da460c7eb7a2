"""Reads of the core app."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.models import WorkerHeartbeat
from core.text import paths_redacted


@dataclass
class HealthReport:
    ok: bool = True
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, name: str, ok: bool, **details: Any) -> None:
        self.checks[name] = {"ok": ok, **details}
        self.ok = self.ok and ok

    def as_dict(self) -> dict[str, Any]:
        failing = [f"{name}: {check['reason']}" for name, check in self.checks.items() if not check["ok"]]
        return {"status": "ok" if self.ok else "fail", "reasons": failing, "checks": self.checks}


def _check_database(report: HealthReport) -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        report.add("database", False, reason=paths_redacted(f"unreachable: {type(exc).__name__}: {exc}".strip()))
        return False
    report.add("database", True, vendor=connection.vendor)
    return True


def _check_queue(report: HealthReport, database_ok: bool) -> None:
    broker = "redis" if settings.Q_BROKER_URL else "orm"
    if not database_ok:
        report.add("queue", False, broker=broker, reason="heartbeat unknown: database unreachable")
        return
    try:
        beat = WorkerHeartbeat.objects.filter(cluster=settings.Q_CLUSTER["name"]).first()
    except Exception as exc:
        report.add("queue", False, broker=broker, reason=paths_redacted(f"heartbeat unreadable: {exc}"))
        return
    if beat is None:
        report.add("queue", False, broker=broker, reason="no heartbeat yet: is a qcluster worker running?")
        return
    age = (timezone.now() - beat.beat_at).total_seconds()
    limit = settings.QUEUE_HEARTBEAT_MAX_AGE
    details = {"broker": broker, "last_heartbeat": beat.beat_at.isoformat(), "heartbeat_age_seconds": round(age, 1)}
    if age > limit:
        report.add("queue", False, reason=f"last heartbeat {age:.0f}s ago (limit {limit}s)", **details)
    else:
        report.add("queue", True, **details)


def _check_mirror_root(report: HealthReport) -> None:
    # /healthz is public: it names the setting, never the path of the machine (the check's name says which).
    root = Path(settings.MIRROR_ROOT)
    if not root.is_dir():
        report.add("mirror_root", False, reason="does not exist")
        return
    try:
        # A real write, since permission bits alone miss read-only mounts and full disks.
        with tempfile.NamedTemporaryFile(dir=root, prefix=".healthz-", delete=True) as handle:
            handle.write(b"ok")
            handle.flush()
    except OSError as exc:
        report.add("mirror_root", False, reason=f"not writable: {exc.strerror or 'error'}")
        return
    usage = os.statvfs(root)
    report.add("mirror_root", True, free_bytes=usage.f_bavail * usage.f_frsize)


# Checks that higher apps add (core imports none of them): each adds its line to the report and never raises.
HealthCheck = Callable[[HealthReport], None]
_REGISTERED_CHECKS: list[HealthCheck] = []


def health_check_register(check: HealthCheck) -> None:
    """Add a check of a higher app to every health report (idempotent; called from an AppConfig.ready)."""
    if check not in _REGISTERED_CHECKS:
        _REGISTERED_CHECKS.append(check)


def health_report() -> HealthReport:
    """Check the database, the queue heartbeat, MIRROR_ROOT and what higher apps registered; never raises."""
    report = HealthReport()
    database_ok = _check_database(report)
    _check_queue(report, database_ok)
    _check_mirror_root(report)
    for check in _REGISTERED_CHECKS:
        try:
            check(report)
        except Exception as exc:  # an informational line must never break the health check
            report.add(getattr(check, "health_name", check.__name__), True, note=f"unavailable: {exc}")
    return report
