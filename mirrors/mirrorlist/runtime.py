"""Per-process singletons: the table holder and the GeoIP resolver, made from settings on first use."""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings

from mirrors.mirrorlist.engine.geo import GeoResolver
from mirrors.mirrorlist.engine.holder import TableHolder

_lock = threading.Lock()
_holder: TableHolder | None = None
_geo: GeoResolver | None = None


def cache_path() -> Path:
    return Path(settings.VAR_DIR) / "mirrorlist" / "snapshot.bin"


_holder_var_dir: object = None


def holder() -> TableHolder:
    global _holder, _holder_var_dir
    # Compared by identity: one attribute read per request, not a path built (tests change VAR_DIR).
    if _holder is None or _holder_var_dir is not settings.VAR_DIR:
        with _lock:
            if _holder is None or _holder_var_dir is not settings.VAR_DIR:
                _holder_var_dir = settings.VAR_DIR
                from mirrors.mirrorlist.sources import snapshot_source

                _holder = TableHolder(
                    cache_path=cache_path(),
                    source=snapshot_source(),
                    refresh_seconds=settings.MIRRORLIST_REFRESH_SECONDS,
                    poll=settings.MIRRORLIST_POLL,
                )
    return _holder


def geo() -> GeoResolver:
    global _geo
    wanted = (settings.GEOIP_DB, settings.GEOIP_ASN_DB)
    if _geo is None or (_geo.location.path, _geo.asn.path) != wanted:
        with _lock:
            if _geo is None or (_geo.location.path, _geo.asn.path) != wanted:
                _geo = GeoResolver(*wanted)
    return _geo


def reset() -> None:
    """Forget the singletons (tests; a settings change)."""
    global _holder, _geo
    with _lock:
        _holder = None
        _geo = None
