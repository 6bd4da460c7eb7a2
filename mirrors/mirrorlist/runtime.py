"""Per-process singletons: the settings the lookup reads, the table holder and the GeoIP resolver.

Settings are copied once into a frozen Config (a Django settings read costs about half a microsecond, and an
answer needs a dozen); tests that change settings send `setting_changed`, which drops the copy.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from mirrors.mirrorlist.engine.address import TrustedNetworks
from mirrors.mirrorlist.engine.geo import GeoResolver
from mirrors.mirrorlist.engine.holder import TableHolder

_lock = threading.Lock()


@dataclass(frozen=True)
class Config:
    cache_path: Path
    refresh_seconds: float
    poll: bool
    geoip_db: str | None
    geoip_asn_db: str | None
    trusted_proxies: TrustedNetworks
    min_mirrors: int
    max_mirrors: int
    cache_seconds: int
    compiled_lookup: bool
    allowed_hosts: tuple[str, ...]
    ssl_redirect: bool
    referrer_policy: str
    hsts_seconds: int
    proxy_ssl_header: tuple[str, str] | None

    @classmethod
    def from_settings(cls) -> Config:
        hosts = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not hosts:
            hosts = [".localhost", "127.0.0.1", "[::1]"]  # as Django's HttpRequest.get_host does
        return cls(
            cache_path=Path(settings.VAR_DIR) / "mirrorlist" / "snapshot.bin",
            refresh_seconds=settings.MIRRORLIST_REFRESH_SECONDS,
            poll=settings.MIRRORLIST_POLL,
            geoip_db=settings.GEOIP_DB,
            geoip_asn_db=settings.GEOIP_ASN_DB,
            trusted_proxies=TrustedNetworks(settings.TRUSTED_PROXIES),
            min_mirrors=settings.MIRRORLIST_MIN_MIRRORS,
            max_mirrors=settings.MIRRORLIST_MAX_MIRRORS,
            cache_seconds=settings.MIRRORLIST_CACHE_SECONDS,
            compiled_lookup=settings.MIRRORLIST_COMPILED,
            allowed_hosts=tuple(hosts),
            ssl_redirect=bool(getattr(settings, "SECURE_SSL_REDIRECT", False)),
            referrer_policy=getattr(settings, "SECURE_REFERRER_POLICY", None) or "same-origin",
            hsts_seconds=int(getattr(settings, "SECURE_HSTS_SECONDS", 0) or 0),
            proxy_ssl_header=getattr(settings, "SECURE_PROXY_SSL_HEADER", None),
        )


_config: Config | None = None
_holder: TableHolder | None = None
_geo: GeoResolver | None = None


def config() -> Config:
    global _config
    current = _config
    if current is None:
        current = _config = Config.from_settings()
    return current


@receiver(setting_changed, dispatch_uid="mirrorlist-settings-changed")
def _settings_changed(**kwargs) -> None:
    global _config
    _config = None


def cache_path() -> Path:
    return config().cache_path


def holder() -> TableHolder:
    global _holder
    cfg = config()
    current = _holder
    if current is None or (current.cache_path is not cfg.cache_path and current.cache_path != cfg.cache_path):
        with _lock:
            if _holder is None or _holder.cache_path != cfg.cache_path:
                from mirrors.mirrorlist.sources import snapshot_source

                if _holder is not None:
                    _holder.stop()
                _holder = TableHolder(
                    cache_path=cfg.cache_path, source=snapshot_source(), refresh_seconds=cfg.refresh_seconds,
                    poll=cfg.poll,
                )  # fmt: skip
            current = _holder
    current.refresh_seconds, current.poll = cfg.refresh_seconds, cfg.poll
    return current


def geo() -> GeoResolver:
    global _geo
    cfg = config()
    current = _geo
    if current is None or current.location.path != cfg.geoip_db or current.asn.path != cfg.geoip_asn_db:
        with _lock:
            current = _geo = GeoResolver(cfg.geoip_db, cfg.geoip_asn_db)
    return current


def reset() -> None:
    """Forget the singletons (tests; a settings change)."""
    global _config, _holder, _geo
    with _lock:
        if _holder is not None:
            _holder.stop()
        _config = _holder = _geo = None
