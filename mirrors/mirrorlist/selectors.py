"""Reads of the mirrorlist for other parts: its line in /healthz."""

from __future__ import annotations

from typing import Any

from mirrors.mirrorlist import runtime
from mirrors.mirrorlist.engine import fast


def mirrorlist_health() -> dict[str, Any]:
    """The served table and GeoIP state. Never a failure: geo off and no table yet are reported, not fatal
    (the endpoint answers without GeoIP; before the first build it says so with a 503)."""
    holder = runtime.holder()
    holder.check_local()  # the local cache only: a health check never starts the poller or waits on a source
    table = holder.current
    geo = runtime.geo()
    location, asn = geo.location.status(), geo.asn.status()
    enabled = runtime.config().compiled_lookup
    lookup_note = ""
    if not enabled:
        lookup_note = "MIRRORLIST_COMPILED is off"
    elif fast.compiled is None:
        lookup_note = "the compiled lookup is not built, or was built from another source: make setup builds it"
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
        # Which lookup answers anonymous JSON requests (the same results; the compiled one is faster).
        "lookup": "compiled" if enabled and fast.compiled is not None else "python",
        "lookup_note": lookup_note,
    }


def mirrorlist_health_check(report) -> None:
    """The mirrorlist's line in /healthz (registered with core by the mirrors app)."""
    report.add("mirrorlist", **mirrorlist_health())


mirrorlist_health_check.health_name = "mirrorlist"  # type: ignore[attr-defined]
