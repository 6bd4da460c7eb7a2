"""The mirrorlist table: one immutable, versioned snapshot of everything a lookup needs.

Serialised as zlib-compressed JSON (never pickle: the bytes come from the database or Redis and are treated
as untrusted); `Table.from_bytes` checks every field's type and refuses anything else with SnapshotError.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mirrors.mirrorlist.engine.prefix import BITS, PrefixEntry, PrefixIndex

FORMAT_VERSION = 1
# A decompressed table bigger than this is refused (a 10,000-URL, 100,000-netblock table is about 8 MB).
MAX_TABLE_BYTES = 512 * 1024 * 1024


class SnapshotError(ValueError):
    """The bytes are not a table this code can trust."""


@dataclass(frozen=True, slots=True)
class HostEntry:
    id: int
    name: str
    country: str
    continent: str
    bandwidth: int
    private: bool
    asn: int | None
    peer_asns: tuple[int, ...]
    allowed_countries: frozenset[str]
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True, slots=True)
class URLEntry:
    """One HostURL of a collection. `excluded` is empty when the URL may be listed, else why it may not."""

    id: int
    host_id: int
    url: str
    scheme: str
    ipv4: bool
    ipv6: bool
    probe_state: str
    lag_seconds: int | None
    excluded: str = ""


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    number: int
    sha256: str
    timestamp: str
    size: int | None = None


@dataclass(frozen=True)
class CollectionEntry:
    slug: str
    current: RevisionInfo | None
    # Older revisions a listed mirror may still serve (within the collection's allowed lag), newest first.
    alternates: tuple[RevisionInfo, ...]
    urls: tuple[URLEntry, ...]
    # Derived at load time: listable URLs per host, and host ids per country and continent.
    by_host: dict[int, tuple[URLEntry, ...]] = field(default_factory=dict, compare=False)
    by_country: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False)
    by_continent: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False)
    public_hosts: tuple[int, ...] = field(default=(), compare=False)
    # What lookups derive from this immutable entry and share, made on first use: per (schemes, family)
    # variant the usable URLs, the weighted-draw buckets and each host's listed entries, and the origin's
    # entry (engine.select); the JSON answer's fixed head (engine.render). A race makes an item twice,
    # harmlessly.
    memo: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Table:
    version: int
    built_at: str
    origin_base_url: str | None
    hosts: dict[int, HostEntry]
    collections: dict[str, CollectionEntry]
    netblocks: PrefixIndex
    continent_redirects: dict[str, str]
    by_asn: dict[int, tuple[int, ...]] = field(default_factory=dict, compare=False)

    @classmethod
    def create(
        cls,
        *,
        version: int,
        built_at: str,
        origin_base_url: str | None,
        hosts: Iterable[HostEntry],
        collections: Iterable[CollectionEntry],
        netblocks: Iterable[PrefixEntry],
        continent_redirects: dict[str, str],
    ) -> Table:
        """Assemble a table and derive its buckets (per ASN, country, continent, host)."""
        host_map = {host.id: host for host in hosts}
        by_asn: dict[int, list[int]] = {}
        for host in host_map.values():
            for asn in {host.asn, *host.peer_asns} - {None}:
                by_asn.setdefault(asn, []).append(host.id)
        return cls(
            version=version,
            built_at=built_at,
            origin_base_url=origin_base_url,
            hosts=host_map,
            collections={entry.slug: _with_buckets(entry, host_map) for entry in collections},
            netblocks=PrefixIndex(entry for entry in netblocks if entry.host_id in host_map),
            continent_redirects=dict(continent_redirects),
            by_asn={asn: tuple(sorted(ids)) for asn, ids in by_asn.items()},
        )

    # ---- serialisation ------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        document = {
            "format": FORMAT_VERSION,
            "version": self.version,
            "built_at": self.built_at,
            "origin_base_url": self.origin_base_url,
            "hosts": [
                [
                    h.id,
                    h.name,
                    h.country,
                    h.continent,
                    h.bandwidth,
                    h.private,
                    h.asn,
                    list(h.peer_asns),
                    sorted(h.allowed_countries),
                    h.latitude,
                    h.longitude,
                ]
                for h in self.hosts.values()
            ],  # fmt: skip
            "collections": [_collection_doc(entry) for entry in self.collections.values()],
            # Networks as decimal strings: IPv6 integers do not fit JSON numbers everywhere.
            "netblocks": [[e.family, e.length, str(e.network), e.host_id] for e in self.netblocks.entries()],
            "continent_redirects": self.continent_redirects,
        }
        return zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 6)

    @classmethod
    def from_bytes(cls, blob: bytes) -> Table:
        """Load a table from untrusted bytes; SnapshotError on anything unexpected."""
        try:
            decompressor = zlib.decompressobj()
            raw = decompressor.decompress(blob, MAX_TABLE_BYTES)
            if decompressor.unconsumed_tail:
                raise SnapshotError("table too large")
            document = json.loads(raw)
            return _table_from_doc(document)
        except SnapshotError:
            raise
        except (zlib.error, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise SnapshotError(f"not a mirrorlist table: {type(exc).__name__}: {exc}") from None


def table_sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def _with_buckets(entry: CollectionEntry, hosts: dict[int, HostEntry]) -> CollectionEntry:
    by_host: dict[int, list[URLEntry]] = {}
    for url in entry.urls:
        if not url.excluded and url.host_id in hosts:
            by_host.setdefault(url.host_id, []).append(url)
    by_country: dict[str, list[int]] = {}
    by_continent: dict[str, list[int]] = {}
    public = []
    for host_id in sorted(by_host):
        host = hosts[host_id]
        if host.private:
            continue
        public.append(host_id)
        by_country.setdefault(host.country, []).append(host_id)
        by_continent.setdefault(host.continent, []).append(host_id)
    return CollectionEntry(
        slug=entry.slug,
        current=entry.current,
        alternates=entry.alternates,
        urls=entry.urls,
        by_host={host_id: tuple(urls) for host_id, urls in by_host.items()},
        by_country={key: tuple(ids) for key, ids in by_country.items()},
        by_continent={key: tuple(ids) for key, ids in by_continent.items()},
        public_hosts=tuple(public),
    )


def _revision_doc(revision: RevisionInfo | None) -> list | None:
    if revision is None:
        return None
    return [revision.number, revision.sha256, revision.timestamp, revision.size]


def _collection_doc(entry: CollectionEntry) -> dict[str, Any]:
    return {
        "slug": entry.slug,
        "current": _revision_doc(entry.current),
        "alternates": [_revision_doc(revision) for revision in entry.alternates],
        "urls": [
            [u.id, u.host_id, u.url, u.scheme, u.ipv4, u.ipv6, u.probe_state, u.lag_seconds, u.excluded]
            for u in entry.urls
        ],
    }


# ---- strict readers for untrusted documents ----------------------------------------------------------


def _int(value: Any) -> int:
    if type(value) is not int:
        raise SnapshotError(f"expected an integer, got {type(value).__name__}")
    return value


def _opt_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _str(value: Any) -> str:
    if type(value) is not str:
        raise SnapshotError(f"expected a string, got {type(value).__name__}")
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise SnapshotError(f"expected a boolean, got {type(value).__name__}")
    return value


def _opt_float(value: Any) -> float | None:
    if value is None:
        return None
    if type(value) not in (int, float):
        raise SnapshotError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _list(value: Any, length: int | None = None) -> list:
    if type(value) is not list or (length is not None and len(value) != length):
        raise SnapshotError("expected a list" + (f" of {length}" if length is not None else ""))
    return value


def _revision(value: Any) -> RevisionInfo | None:
    if value is None:
        return None
    number, sha256, timestamp, size = _list(value, 4)
    return RevisionInfo(_int(number), _str(sha256), _str(timestamp), _opt_int(size))


def _host(value: Any) -> HostEntry:
    id_, name, country, continent, bandwidth, private, asn, peers, allowed, lat, lon = _list(value, 11)
    return HostEntry(
        id=_int(id_),
        name=_str(name),
        country=_str(country),
        continent=_str(continent),
        bandwidth=_int(bandwidth),
        private=_bool(private),
        asn=_opt_int(asn),
        peer_asns=tuple(_int(peer) for peer in _list(peers)),
        allowed_countries=frozenset(_str(country) for country in _list(allowed)),
        latitude=_opt_float(lat),
        longitude=_opt_float(lon),
    )


def _url(value: Any) -> URLEntry:
    id_, host_id, url, scheme, ipv4, ipv6, state, lag, excluded = _list(value, 9)
    return URLEntry(
        _int(id_), _int(host_id), _str(url), _str(scheme), _bool(ipv4), _bool(ipv6), _str(state), _opt_int(lag),
        _str(excluded),
    )  # fmt: skip


def _collection(value: Any) -> CollectionEntry:
    if type(value) is not dict:
        raise SnapshotError("expected a collection object")
    return CollectionEntry(
        slug=_str(value["slug"]),
        current=_revision(value["current"]),
        alternates=tuple(_revision(item) for item in _list(value["alternates"])),
        urls=tuple(_url(item) for item in _list(value["urls"])),
    )


def _netblock(value: Any) -> PrefixEntry:
    family, length, network, host_id = _list(value, 4)
    family, length, host_id = _int(family), _int(length), _int(host_id)
    if family not in BITS or not 0 <= length <= BITS[family]:
        raise SnapshotError("bad netblock family or length")
    number = int(_str(network))
    if not 0 <= number < 2 ** BITS[family]:
        raise SnapshotError("netblock out of range")
    return PrefixEntry(family, length, number, host_id)


def _table_from_doc(document: Any) -> Table:
    if type(document) is not dict or document.get("format") != FORMAT_VERSION:
        raise SnapshotError("unknown table format")
    redirects = document["continent_redirects"]
    if type(redirects) is not dict:
        raise SnapshotError("continent_redirects must be an object")
    return Table.create(
        version=_int(document["version"]),
        built_at=_str(document["built_at"]),
        origin_base_url=_opt_str(document["origin_base_url"]),
        hosts=[_host(item) for item in _list(document["hosts"])],
        collections=[_collection(item) for item in _list(document["collections"])],
        netblocks=[_netblock(item) for item in _list(document["netblocks"])],
        continent_redirects={_str(key): _str(value) for key, value in redirects.items()},
    )
