"""Reads of the mirrorlist for other parts: its line in /healthz."""

from __future__ import annotations

from typing import Any

from mirrors.mirrorlist import runtime


def mirrorlist_health() -> dict[str, Any]:
    """The served table and GeoIP state. Never a failure: geo off and no table yet are reported, not fatal
    (the endpoint answers without GeoIP; before the first build it says so with a 503)."""
    holder = runtime.holder()
    holder.check_local()  # the local cache only: a health check never starts the poller or waits on a source
    table = holder.current
    geo = runtime.geo()
    location, asn = geo.location.status(), geo.asn.status()
    return {
        "ok": True,
        "table_version": table.version if table else None,
        "table_built_at": table.built_at if table else None,
        "table_note": holder.last_error or ("" if table else "no table yet: run manage.py mirrorlist_build"),
        "geo": "on" if location.loaded else "off",
        "geo_database": location.database_type,
        "geo_note": location.error,
        "asn": "on" if asn.loaded else "off",
        "asn_note": asn.error,
    }


def mirrorlist_health_check(report) -> None:
    """The mirrorlist's line in /healthz (registered with core by the mirrors app)."""
    report.add("mirrorlist", **mirrorlist_health())


mirrorlist_health_check.health_name = "mirrorlist"  # type: ignore[attr-defined]
