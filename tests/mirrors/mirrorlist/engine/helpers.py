"""Tables built by hand for engine tests (no database)."""

from __future__ import annotations

import ipaddress
import itertools

from mirrors.mirrorlist.engine.prefix import parse_cidr
from mirrors.mirrorlist.engine.select import Client
from mirrors.mirrorlist.engine.table import CollectionEntry, HostEntry, RevisionInfo, Table, URLEntry

_ids = itertools.count(1)
CURRENT = RevisionInfo(42, "a" * 64, "2026-11-21T10:00:00Z", 321)
ALTERNATES = (RevisionInfo(41, "b" * 64, "2026-11-21T09:00:00Z", 320),)


def host(name: str, *, country="DE", continent="EU", bandwidth=100, private=False, asn=None, peers=(),
         allowed=(), lat=None, lon=None) -> HostEntry:  # fmt: skip
    return HostEntry(next(_ids), name, country, continent, bandwidth, private, asn, tuple(peers),
                     frozenset(allowed), lat, lon)  # fmt: skip


def url(h: HostEntry, scheme="https", *, ipv4=True, ipv6=False, excluded="", slug="full") -> URLEntry:
    return URLEntry(next(_ids), h.id, f"{scheme}://{h.name}/pypi/{slug}/", scheme, ipv4, ipv6, "current", 0, excluded)


def table(hosts, urls, netblocks=(), redirects=None, version=1, origin="https://origin.example/pub/full/") -> Table:
    return Table.create(
        version=version,
        built_at="2026-12-02T00:00:00Z",
        origin_base_url="https://origin.example/",
        hosts=hosts,
        collections=[CollectionEntry("full", CURRENT, ALTERNATES, tuple(urls))],
        netblocks=[parse_cidr(cidr, h.id) for cidr, h in netblocks],
        continent_redirects=redirects or {},
    )


def client(ip: str, **geo) -> Client:
    address = ipaddress.ip_address(ip)
    return Client(ip, address.version, int(address), **geo)
