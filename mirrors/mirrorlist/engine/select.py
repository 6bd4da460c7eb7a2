"""The lookup: which mirrors of a collection a client gets, in which order, and (for admins) why.

Tiers, each in weighted random order (bandwidth, and distance where coordinates exist): netblock (most
specific prefix first), ASN, country, continent (with redirects), world (only to fill up to the minimum),
then the origin. At most `max_mirrors` hosts are listed (an installer needs a handful; the order within a
tier stays a fair weighted draw). Reads only the immutable Table.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from mirrors.geo_tables import COUNTRY_CONTINENT
from mirrors.mirrorlist.engine.table import CollectionEntry, HostEntry, Table, URLEntry
from mirrors.mirrorlist.engine.weights import (
    Bucket,
    DistanceFactor,
    bucket_indices,
    weighted_draw,
    weighted_order,
)

TIERS = ("netblock", "asn", "country", "continent", "world", "origin")
PROTOCOLS = ("https", "http", "rsync")
# Without a `protocol`, installers get what they can use: https first, then http.
DEFAULT_SCHEMES = ("https", "http")
_SCHEME_ORDER = {scheme: index for index, scheme in enumerate(PROTOCOLS)}
# Buckets larger than this (and than the room left) are drawn by bisection and only as far as needed; smaller
# ones are ordered in full, one key per host (engine.weights.bucket_indices).
DRAW_THRESHOLD = 64
_NAMED_NETWORK_TIERS = ("netblock", "asn")


class Client(NamedTuple):
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
    """The answer: `groups` holds one tuple of entries per listed host (its usable URLs, best scheme first), in
    order; anonymous answers reuse the same tuples from request to request (see _Lookup.add_tier)."""

    collection: CollectionEntry
    client: Client
    country: str | None
    continent: str | None
    groups: list[tuple[Listed, ...]] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)

    @property
    def mirrors(self) -> list[Listed]:
        """Every listed URL, in order."""
        return [entry for group in self.groups for entry in group]


@dataclass(frozen=True, slots=True)
class _TierBucket:
    """A country's, continent's or the world's hosts for one (schemes, family) variant: the weighted-draw
    bucket, the hosts' ids, the indices of those that may refuse some clients (private, or serving only some
    countries), and each host's reasonless entries; made once per table and variant."""

    bucket: Bucket
    ids: tuple[int, ...]
    restricted: frozenset[int]
    groups: tuple[tuple[Listed, ...], ...]


@dataclass(frozen=True, slots=True)
class Query:
    """The request's options, validated by the caller."""

    protocol: str | None = None
    country: str | None = None
    min_mirrors: int = 5
    max_mirrors: int = 10
    explain: bool = False


def url_refusal(url: URLEntry, schemes: tuple[str, ...], family: int) -> str:
    """Why a client of this address family asking for these schemes cannot use the URL ('' when it can)."""
    if url.scheme not in schemes:
        return f"protocol {url.scheme} not requested"
    if family == 6 and not url.ipv6:
        return "not reachable over IPv6"
    if family == 4 and not url.ipv4:
        return "not reachable over IPv4"
    return ""


def usable_urls_by_host(
    collection: CollectionEntry, schemes: tuple[str, ...], family: int
) -> dict[int, tuple[URLEntry, ...]]:
    """Per host, the URLs a client of this variant can use, best scheme first; made once per table and variant."""
    key = ("urls", schemes, family)
    usable = collection.memo.get(key)
    if usable is None:
        usable = {}
        for host_id, urls in collection.by_host.items():
            good = sorted(
                (u for u in urls if not url_refusal(u, schemes, family)), key=lambda u: _SCHEME_ORDER.get(u.scheme, 9)
            )
            if good:
                usable[host_id] = tuple(good)
        collection.memo[key] = usable
    return usable


def query_schemes(query: Query) -> tuple[str, ...]:
    """The schemes a query asks for: its protocol, or what installers can use."""
    return (query.protocol,) if query.protocol else DEFAULT_SCHEMES


def selection_place(table: Table, client: Client, query: Query) -> tuple[str | None, str | None]:
    """The country and continent whose tiers the client gets: a requested country over the address's, and the
    continent an admin redirected that country to, if any."""
    country = query.country or client.country
    continent = table.continent_redirects.get(country or "") or (
        COUNTRY_CONTINENT.get(query.country) if query.country else client.continent
    )
    return country, continent


def listed_entries(host: HostEntry, tier: str, reason: str, urls: Iterable[URLEntry]) -> tuple[Listed, ...]:
    """A listed host's entries: one per usable URL."""
    return tuple(Listed(u.url, host.name, host.country, tier, reason, u.scheme) for u in urls)


def origin_group(collection: CollectionEntry, query: Query, origin_url: str | None) -> tuple[Listed, ...]:
    """The origin's entry, last of all, unless the query asks for a protocol the origin does not speak. One
    group per origin address, so that its JSON is memoised like the others'."""
    if not origin_url or (query.protocol is not None and not origin_url.startswith(query.protocol + "://")):
        return ()
    key = ("origin", origin_url)
    origin = collection.memo.get(key)
    if origin is None:
        origin = collection.memo[key] = (Listed(origin_url, "origin", None, "origin", "the origin, last resort", ""),)
    return origin


class _Lookup:
    """One lookup's working state; short-lived, never shared."""

    def __init__(self, table: Table, collection: CollectionEntry, client: Client, query: Query) -> None:
        self.table = table
        self.collection = collection
        self.client = client
        self.query = query
        self.schemes = query_schemes(query)
        self.listed_hosts: set[int] = set()
        self.factor = DistanceFactor(client.latitude, client.longitude)
        self._usable = usable_urls_by_host(collection, self.schemes, client.family)
        # tier -> host id -> the host's entries for this (schemes, family) variant, shared by later requests.
        self._entries = collection.memo.setdefault(("entries", self.schemes, client.family), {})
        country, continent = selection_place(table, client, query)
        self.selection = Selection(collection=collection, client=client, country=country, continent=continent)

    # ---- filters ------------------------------------------------------------------------------------

    def host_refusal(self, host: HostEntry, tier: str) -> str:
        """Why this host may not be listed to this client in this tier ('' when it may). Only private and
        country-restricted hosts are ever refused: eligible() skips the call for the others."""
        if host.private and tier not in _NAMED_NETWORK_TIERS:
            return "private: the client is not in its netblocks or ASNs"
        if host.allowed_countries:
            # Both the address's country and a requested one must be allowed; an unknown country passes
            # only where the operator named the client's network (netblock or ASN).
            countries = {c for c in (self.client.country, self.query.country) if c}
            if not countries and tier not in _NAMED_NETWORK_TIERS:
                return "serves only " + ", ".join(sorted(host.allowed_countries)) + "; the client's country is unknown"
            if countries - host.allowed_countries:
                return "serves only " + ", ".join(sorted(host.allowed_countries))
        return ""

    def url_refusal(self, url: URLEntry) -> str:
        return url_refusal(url, self.schemes, self.client.family)

    def usable_urls(self, host_id: int) -> tuple[URLEntry, ...]:
        """The host's URLs this client can use, best scheme first (from a per-variant map made once)."""
        return self._usable.get(host_id, ())

    # ---- tiers --------------------------------------------------------------------------------------

    def bucket(self, tier: str, code: str | None, host_ids: Iterable[int]) -> _TierBucket:
        key = (tier, code, self.schemes, self.client.family)
        made = self.collection.memo.get(key)
        if made is None:  # made once per table and variant; a race makes the same bucket twice, harmlessly
            hosts = [self.table.hosts[host_id] for host_id in host_ids if self.usable_urls(host_id)]
            made = self.collection.memo[key] = _TierBucket(
                Bucket.of(hosts),
                tuple(host.id for host in hosts),
                frozenset(index for index, host in enumerate(hosts) if host.private or host.allowed_countries),
                tuple(self._make_entries(host, tier, "") for host in hosts),
            )
        return made

    def eligible(self, tier: str):
        listed, refusal = self.listed_hosts, self.host_refusal

        def check(host: HostEntry) -> bool:
            if host.id in listed:
                return False
            # Most hosts are public and serve everyone: no refusal to look for.
            return not (host.private or host.allowed_countries) or not refusal(host, tier)

        return check

    def add_tier(self, tier: str, host_ids: tuple[int, ...], reason: str, *, bucketed: bool = False, code=None,
                 limit: int | None = None) -> None:  # fmt: skip
        """Add up to the room left of the tier's eligible hosts, in weighted random order. Bucketed tiers
        (country, continent, world) draw from a bucket made once per table and variant."""
        listed = self.listed_hosts
        room = (self.query.max_mirrors if limit is None else min(self.query.max_mirrors, limit)) - len(listed)
        if room <= 0 or not host_ids:
            return
        if bucketed:
            made = self.bucket(tier, code, host_ids)
            bucket = made.bucket
            if len(bucket.hosts) > max(room, DRAW_THRESHOLD):
                ordered = weighted_draw(bucket, room, self.factor, self._rng, self.eligible(tier))
            else:
                self._add_from_bucket(made, tier, room, reason)
                return
        else:
            hosts = self.table.hosts
            eligible = self.eligible(tier)
            candidates = [hosts[h] for h in host_ids if eligible(hosts[h]) and self.usable_urls(h)]
            ordered = weighted_order(candidates, self.factor, self._rng)[:room]
        groups = self.selection.groups
        if reason:  # explain: entries with their reasons, made for this answer only
            for host in ordered:
                listed.add(host.id)
                groups.append(self._make_entries(host, tier, reason))
            return
        # Without a reason the entries are the same for every request of the table and variant: made once.
        made_entries = self._entries.get(tier)
        if made_entries is None:
            made_entries = self._entries[tier] = {}
        for host in ordered:
            host_id = host.id
            listed.add(host_id)
            group = made_entries.get(host_id)
            if group is None:
                group = made_entries[host_id] = self._make_entries(host, tier, "")
            groups.append(group)

    def _add_from_bucket(self, made: _TierBucket, tier: str, room: int, reason: str) -> None:
        """The small-bucket path, the one most answers take: one pass over the bucket in weighted order, with
        the bucket's own entries (the eligibility test of eligible(), inline)."""
        listed, groups, ids, restricted = self.listed_hosts, self.selection.groups, made.ids, made.restricted
        hosts = made.bucket.hosts
        for index in bucket_indices(made.bucket, self.factor.place, self._rng):
            host_id = ids[index]
            if host_id in listed or (index in restricted and self.host_refusal(hosts[index], tier)):
                continue
            listed.add(host_id)
            groups.append(self._make_entries(hosts[index], tier, reason) if reason else made.groups[index])
            room -= 1
            if not room:
                return

    def _make_entries(self, host: HostEntry, tier: str, reason: str) -> tuple[Listed, ...]:
        return listed_entries(host, tier, reason, self.usable_urls(host.id))

    def run(self, rng: random.Random, origin_url: str | None) -> Selection:
        self._rng = rng
        client, selection, table, collection = self.client, self.selection, self.table, self.collection
        explain = self.query.explain  # reasons are written only for admins who asked
        for match in table.netblocks.lookup(client.family, client.address):
            self.add_tier("netblock", match.host_ids, f"client address in netblock {match.cidr}" if explain else "")
        if client.asn is not None:
            self.add_tier("asn", table.by_asn.get(client.asn, ()), f"client in AS{client.asn}" if explain else "")
        if selection.country:
            reason = f"in {selection.country}" if explain else ""
            self.add_tier("country", collection.by_country.get(selection.country, ()), reason, bucketed=True,
                          code=selection.country)  # fmt: skip
        if selection.continent:
            reason = ""
            if explain:
                redirected = table.continent_redirects.get(selection.country or "")
                reason = f"on continent {selection.continent}" + (
                    f" (redirect for {selection.country})" if redirected else ""
                )
            self.add_tier("continent", collection.by_continent.get(selection.continent, ()), reason,
                          bucketed=True, code=selection.continent)  # fmt: skip
        minimum = self.query.min_mirrors
        reason = f"rest of the world: fewer than {minimum} mirrors listed before" if explain else ""
        self.add_tier("world", collection.public_hosts, reason, bucketed=True, limit=minimum)
        origin = origin_group(collection, self.query, origin_url)
        if origin:
            selection.groups.append(origin)
        if self.query.explain:
            self.explain_exclusions()
        return selection

    def explain_exclusions(self) -> None:
        listed = {entry.url for entry in self.selection.mirrors}
        local = set(self.collection.by_country.get(self.selection.country or "", ()))
        local |= set(self.collection.by_continent.get(self.selection.continent or "", ()))
        for url in self.collection.urls:
            if url.url in listed:
                continue
            host = self.table.hosts.get(url.host_id)
            reason = url.excluded or ("" if host else "unknown host")
            if not reason:
                reason = self.url_refusal(url) or self.host_refusal(host, "world")
            if not reason and host.id in self.listed_hosts:
                reason = "another URL of the same host is listed"
            if not reason and host.id in local:
                reason = f"not drawn: at most {self.query.max_mirrors} mirrors are listed, drawn by weight"
            if not reason:
                reason = (
                    f"not in the client's netblocks, ASN, country or continent, and {self.query.min_mirrors} "
                    "or more mirrors were listed before the world tier"
                )
            self.selection.excluded.append(Excluded(url.url, host.name if host else "?", reason))


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
