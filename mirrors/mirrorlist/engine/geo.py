"""GeoIP lookups with geoip2, reloaded when a database file is replaced (as geoipupdate does).

The call is chosen from the database type (`city()` on City databases, `country()` on Country ones, `asn()`
on ASN ones): geoip2 raises TypeError when they are mixed. A missing or unreadable file means "geo off" for
that part; lookups then answer with nothing instead of failing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

import geoip2.database
import geoip2.errors
import maxminddb.errors

log = logging.getLogger(__name__)
CHECK_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class GeoInfo:
    country: str | None = None
    continent: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    asn: int | None = None


NO_GEO = GeoInfo()


@dataclass(frozen=True, slots=True)
class GeoStatus:
    path: str | None
    loaded: bool
    database_type: str | None = None
    error: str = ""


class _ReloadingReader:
    """One database file; re-opened when its inode, size or mtime changes (checked at most once a second)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.reader: geoip2.database.Reader | None = None
        self.database_type: str | None = None
        self.error = "" if path else "not configured"
        self._stamp: tuple[int, int, int] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        if path:
            self._check(force=True)

    def _check(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < CHECK_INTERVAL_SECONDS:
            return
        with self._lock:
            self._checked = now
            try:
                st = os.stat(self.path)
            except OSError as exc:
                if self.reader is None:
                    self.error = f"cannot read: {exc.strerror or exc}"
                return  # a replaced file vanishing for a moment keeps the old reader
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
            if stamp == self._stamp:
                return
            try:
                reader = geoip2.database.Reader(self.path)
            except (OSError, ValueError, maxminddb.errors.InvalidDatabaseError) as exc:
                log.warning("GeoIP database %s unreadable, keeping the previous one: %s", self.path, exc)
                if self.reader is None:
                    self.error = f"unreadable: {exc}"
                return
            self._stamp = stamp
            self.reader, self.database_type, self.error = reader, reader.metadata().database_type, ""

    def current(self) -> geoip2.database.Reader | None:
        if self.path:
            self._check()
        return self.reader

    def status(self) -> GeoStatus:
        self.current()
        return GeoStatus(self.path, self.reader is not None, self.database_type, self.error)


class GeoResolver:
    """Country/continent/coordinates from GEOIP_DB and the ASN from GEOIP_ASN_DB; thread-safe."""

    def __init__(self, country_db: str | None, asn_db: str | None) -> None:
        self.location = _ReloadingReader(country_db)
        self.asn = _ReloadingReader(asn_db)

    def lookup(self, ip: str) -> GeoInfo:
        country = continent = None
        latitude = longitude = None
        asn = None
        reader = self.location.current()
        if reader is not None:
            kind = self.location.database_type or ""
            try:
                if "City" in kind:
                    record = reader.city(ip)
                    latitude, longitude = record.location.latitude, record.location.longitude
                else:
                    record = reader.country(ip)
                country = record.country.iso_code
                continent = record.continent.code
            except (geoip2.errors.AddressNotFoundError, ValueError, TypeError):
                pass
        reader = self.asn.current()
        if reader is not None:
            try:
                asn = reader.asn(ip).autonomous_system_number
            except (geoip2.errors.AddressNotFoundError, ValueError, TypeError):
                pass
        if country is None and asn is None:
            return NO_GEO
        return GeoInfo(country, continent, latitude, longitude, asn)
