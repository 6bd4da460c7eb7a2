"""The lookup: which mirrors of a collection a client gets, in which order, and (for admins) why.

Tiers, each shuffled with weights (bandwidth, and distance where coordinates exist): netblock (most specific
prefix first), ASN, country, continent (with redirects), world (only while fewer than the minimum are
listed), then the origin. Reads only the immutable Table.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from mirrors.mirrorlist.engine.continents import continent_of
from mirrors.mirrorlist.engine.table import CollectionEntry, HostEntry, Table, URLEntry

TIERS = ("netblock", "asn", "country", "continent", "world", "origin")
PROTOCOLS = ("https", "http", "rsync")
# Without a `protocol`, installers get what they can use: https first, then http.
DEFAULT_SCHEMES = ("https", "http")
_SCHEME_ORDER = {scheme: index for index, scheme in enumerate(PROTOCOLS)}
# Distance weighting: a mirror this many km away weighs half as much as one next door (bandwidth equal).
DISTANCE_HALF_KM = 1000.0
_EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class Client:
    """Who asks: the address (already chosen from peer or trusted proxy) and what GeoIP knows of it."""

    ip: str
    family: int
    address: int
    country: str | None = None
    continent: str | None = None
    asn: int | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class Listed:
    url: str
    host: str
    country: str | None
    tier: str
    reason: str
    scheme: str


@dataclass(frozen=True, slots=True)
class Excluded:
    url: str
    host: str
    reason: str


@dataclass
class Selection:
    collection: CollectionEntry
    client: Client
    country: str | None
    continent: str | None
    mirrors: list[Listed] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Query:
    """The request's options, validated by the caller."""

    protocol: str | None = None
    country: str | None = None
    min_mirrors: int = 5
    explain: bool = False


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def weighted_order(
    candidates: list[tuple[HostEntry, list[URLEntry]]], client: Client, rng: random.Random
) -> list[tuple[HostEntry, list[URLEntry]]]:
    """Weighted random order (Efraimidis-Spirakis): P(first) is proportional to the weight.

    Weight = bandwidth, divided by (1 + distance / DISTANCE_HALF_KM) where client and host coordinates exist;
    hosts without coordinates get the tier's mean distance factor, so they are neither favoured nor punished.
    """
    if len(candidates) < 2:
        return candidates
    factors: list[float | None] = []
    if client.latitude is not None and client.longitude is not None:
        for host, _urls in candidates:
            if host.latitude is None or host.longitude is None:
                factors.append(None)
            else:
                distance = _distance_km(client.latitude, client.longitude, host.latitude, host.longitude)
                factors.append(1.0 / (1.0 + distance / DISTANCE_HALF_KM))
    known = [factor for factor in factors if factor is not None]
    mean = sum(known) / len(known) if known else 1.0
    keyed = []
    for index, (host, _urls) in enumerate(candidates):
        factor = factors[index] if factors and factors[index] is not None else mean
        weight = max(host.bandwidth, 1) * factor
        keyed.append((rng.random() ** (1.0 / weight), index))
    keyed.sort(reverse=True)
    return [candidates[index] for _key, index in keyed]


class _Lookup:
    """One lookup's working state; short-lived, never shared."""

    def __init__(self, table: Table, collection: CollectionEntry, client: Client, query: Query) -> None:
        self.table = table
        self.collection = collection
        self.client = client
        self.query = query
        self.schemes = (query.protocol,) if query.protocol else DEFAULT_SCHEMES
        self.listed_hosts: set[int] = set()
        country = query.country or client.country
        self.selection = Selection(
            collection=collection,
            client=client,
            country=country,
            continent=table.continent_redirects.get(country or "")
            or (continent_of(query.country) if query.country else client.continent),
        )

    def host_refusal(self, host: HostEntry, tier: str) -> str:
        """Why this host may not be listed to this client in this tier ('' when it may)."""
        if host.private and tier not in ("netblock", "asn"):
            return "private: the client is not in its netblocks or ASNs"
        if host.allowed_countries:
            # Both the address's country and a requested one must be allowed; an unknown country passes
            # only where the operator named the client's network (netblock or ASN).
            countries = {c for c in (self.client.country, self.query.country) if c}
            if not countries and tier not in ("netblock", "asn"):
                return "serves only " + ", ".join(sorted(host.allowed_countries)) + "; the client's country is unknown"
            if countries - host.allowed_countries:
                return "serves only " + ", ".join(sorted(host.allowed_countries))
        return ""

    def url_refusal(self, url: URLEntry) -> str:
        if url.scheme not in self.schemes:
            return f"protocol {url.scheme} not requested"
        if self.client.family == 6 and not url.ipv6:
            return "not reachable over IPv6"
        if self.client.family == 4 and not url.ipv4:
            return "not reachable over IPv4"
        return ""

    def add_tier(self, tier: str, host_ids: Iterable[int], reason: str) -> None:
        hosts = self.table.hosts
        candidates = []
        for host_id in host_ids:
            if host_id in self.listed_hosts:
                continue
            urls = self.collection.by_host.get(host_id)
            if not urls:
                continue
            host = hosts[host_id]
            if self.host_refusal(host, tier):
                continue
            usable = [url for url in urls if not self.url_refusal(url)]
            if usable:
                candidates.append((host, usable))
        for host, urls in weighted_order(candidates, self.client, self._rng):
            self.listed_hosts.add(host.id)
            for url in sorted(urls, key=lambda item: _SCHEME_ORDER.get(item.scheme, 9)):
                self.selection.mirrors.append(Listed(url.url, host.name, host.country, tier, reason, url.scheme))

    def run(self, rng: random.Random, origin_url: str | None) -> Selection:
        self._rng = rng
        client, selection, table = self.client, self.selection, self.table
        for match in table.netblocks.lookup(client.family, client.address):
            self.add_tier("netblock", match.host_ids, f"client address in netblock {match.cidr}")
        if client.asn is not None:
            self.add_tier("asn", table.by_asn.get(client.asn, ()), f"client in AS{client.asn}")
        if selection.country:
            self.add_tier("country", self.collection.by_country.get(selection.country, ()), f"in {selection.country}")
        if selection.continent:
            redirected = table.continent_redirects.get(selection.country or "")
            reason = f"on continent {selection.continent}" + (
                f" (redirect for {selection.country})" if redirected else ""
            )
            self.add_tier("continent", self.collection.by_continent.get(selection.continent, ()), reason)
        if len(self.listed_hosts) < self.query.min_mirrors:
            self.add_tier(
                "world",
                self.collection.public_hosts,
                f"rest of the world: fewer than {self.query.min_mirrors} mirrors listed before",
            )
        if origin_url and (self.query.protocol is None or origin_url.startswith(self.query.protocol + "://")):
            selection.mirrors.append(Listed(origin_url, "origin", None, "origin", "the origin, last resort", ""))
        if self.query.explain:
            self.explain_exclusions()
        return selection

    def explain_exclusions(self) -> None:
        listed = {entry.url for entry in self.selection.mirrors}
        for url in self.collection.urls:
            if url.url in listed:
                continue
            host = self.table.hosts.get(url.host_id)
            name = host.name if host else "?"
            reason = url.excluded
            if not reason and host is not None:
                reason = self.url_refusal(url) or self.host_refusal(host, "world")
                if not reason and host.id in self.listed_hosts:
                    reason = "another URL of the same host is listed"
                if not reason:
                    reason = (
                        f"not in the client's netblocks, ASN, country or continent, and {self.query.min_mirrors} "
                        "or more mirrors were listed before the world tier"
                    )
            self.selection.excluded.append(Excluded(url.url, name, reason or "unknown host"))


def select_mirrors(
    table: Table,
    collection: CollectionEntry,
    client: Client,
    query: Query,
    *,
    rng: random.Random,
    origin_url: str | None,
) -> Selection:
    """The ordered list for one client; pure and thread-safe (the table is never changed)."""
    return _Lookup(table, collection, client, query).run(rng, origin_url)
