"""Queue tasks (django-q2) of the probes: thin adapters over the services; schedules in mirrormanager/schedules.py."""

from __future__ import annotations

from mirrors.probing.services import probes_run


def probe_task(host_name: str | None = None) -> str:
    """Probe the URLs that are due (every few minutes; each URL about every PROBE_INTERVAL); returns the summary."""
    summary = probes_run(host_name=host_name)
    return summary.run.summary if summary is not None else "nothing due"
