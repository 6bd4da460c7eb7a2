"""Queue tasks of the mirrorlist: thin adapters over services."""

from __future__ import annotations

from dataclasses import asdict

from mirrors.mirrorlist.services import mirrorlist_build, mirrorlist_build_queued


def mirrorlist_build_task() -> dict:
    """The rebuild queued by registry changes and probe runs (debounced)."""
    return asdict(mirrorlist_build_queued())


def mirrorlist_build_scheduled() -> dict:
    """The safety net: a rebuild every few minutes whatever happened."""
    return asdict(mirrorlist_build())
