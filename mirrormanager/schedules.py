"""The queue's schedules, declared in code and installed idempotently after every migrate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    minutes: int
    kwargs: dict[str, Any] | None = None


SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec("heartbeat", "core.tasks.heartbeat", minutes=1),
    ScheduleSpec("sync-all", "sync.tasks.sync_all_task", minutes=60),
    ScheduleSpec("verify-quick", "sync.tasks.verify_task", minutes=24 * 60, kwargs={"quick": True}),
    ScheduleSpec("collect-blobs", "sync.tasks.collect_task", minutes=24 * 60),
    # A sync that changed something queues publication itself; this one also prunes files past their grace.
    ScheduleSpec("publish", "metadata.tasks.publish_task", minutes=15),
    # Each URL is probed about every PROBE_INTERVAL, staggered: this run takes whatever is due.
    ScheduleSpec("probe", "mirrors.probing.tasks.probe_task", minutes=5),
    # Changes and probe runs rebuild the mirrorlist at once; this is the safety net.
    ScheduleSpec("mirrorlist-build", "mirrors.mirrorlist.tasks.mirrorlist_build_scheduled", minutes=10),
)


def install_schedules() -> list[str]:
    """Create or update every declared schedule by name; leaves other schedules alone. Returns the names."""
    from django_q.models import Schedule

    for spec in SCHEDULES:
        schedule, created = Schedule.objects.get_or_create(
            name=spec.name,
            defaults={
                "func": spec.func,
                "schedule_type": Schedule.MINUTES,
                "minutes": spec.minutes,
                "kwargs": spec.kwargs or {},
                "repeats": -1,
                "next_run": timezone.now(),
            },
        )
        if not created and (schedule.func, schedule.minutes, schedule.kwargs or {}) != (
            spec.func,
            spec.minutes,
            spec.kwargs or {},
        ):
            schedule.func = spec.func
            schedule.schedule_type = Schedule.MINUTES
            schedule.minutes = spec.minutes
            schedule.kwargs = spec.kwargs or {}
            schedule.save()
    return [spec.name for spec in SCHEDULES]


def install_schedules_after_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate hook: install schedules once django_q's tables exist."""
    if getattr(sender, "label", None) != "core":
        return
    from django.db import connection

    if "django_q_schedule" not in connection.introspection.table_names():
        return
    install_schedules()
