"""GeoIP lookups of MaxMind DB files (GeoIP2/GeoLite2 Country, City, ASN), reloaded when a file is replaced
(as geoipupdate does).

The fields read are chosen from the database type (`metadata().database_type`), as geoip2's `city()`,
`country()` and `asn()` are. The records are read with maxminddb, the reader library under geoip2: geoip2's
model objects cost 14 us per City lookup here against 2 us for the record itself (measured on the
benchmark's databases), and the mirrorlist needs four fields. A missing or unreadable file means "geo off"
for that part; lookups then answer with nothing instead of failing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import NamedTuple

import maxminddb
import maxminddb.errors

log = logging.getLogger(__name__)
CHECK_INTERVAL_SECONDS = 1.0


class GeoInfo(NamedTuple):
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
        self.reader: maxminddb.Reader | None = None
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
                reader = maxminddb.open_database(self.path)
            except (OSError, ValueError, maxminddb.errors.InvalidDatabaseError) as exc:
                log.warning("GeoIP database %s unreadable, keeping the previous one: %s", self.path, exc)
                if self.reader is None:
                    self.error = f"unreadable: {exc}"
                return
            self._stamp = stamp
            self.reader, self.database_type, self.error = reader, reader.metadata().database_type, ""

    def current(self) -> maxminddb.Reader | None:
        if self.path and time.monotonic() - self._checked >= CHECK_INTERVAL_SECONDS:
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
        """What the databases say of the address; fields of the wrong type (a damaged or foreign database)
        count as unknown."""
        country = continent = latitude = longitude = asn = None
        reader = self.location.current()
        if reader is not None and "ASN" not in (self.location.database_type or ""):
            record = _get(reader, ip)
            if record:
                country = _code((record.get("country") or record.get("registered_country") or {}).get("iso_code"))
                continent = _code((record.get("continent") or {}).get("code"))
                location = record.get("location")  # City (and Enterprise) databases only
                if location:
                    latitude, longitude = (
                        _degrees(location.get("latitude"), 90),
                        _degrees(location.get("longitude"), 180),
                    )
                    if latitude is None or longitude is None:
                        latitude = longitude = None
        reader = self.asn.current()
        if reader is not None and "ASN" in (self.asn.database_type or ""):
            record = _get(reader, ip)
            if record:
                asn = record.get("autonomous_system_number")
                if type(asn) is not int or not 0 <= asn < 2**32:
                    asn = None
        if country is None and asn is None:
            return NO_GEO
        return GeoInfo(country, continent, latitude, longitude, asn)


def _get(reader: maxminddb.Reader, ip: str) -> dict | None:
    try:
        record = reader.get(ip)
    except (ValueError, TypeError, maxminddb.errors.InvalidDatabaseError):
        return None
    return record if type(record) is dict else None


# Every code that can be one: two ASCII capitals. A set test instead of four string methods an answer.
_CODES = frozenset(chr(a) + chr(b) for a in range(65, 91) for b in range(65, 91))


def _code(value: object) -> str | None:
    """A country or continent code: two ASCII letters, upper case."""
    return value if type(value) is str and value in _CODES else None


def _degrees(value: object, limit: float) -> float | None:
    if type(value) not in (float, int) or not -limit <= value <= limit:
        return None
    return float(value)
