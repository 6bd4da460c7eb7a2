"""The compiled anonymous lookup (engine/_fastselect.pyx), used when it is built and current.

`make setup` builds it (engine/build_fast.py: Cython, then the C compiler). Without it, or when it was built
from another version of its source, every answer comes from engine.select: the same tiers, order and weighted
draws (tests run both and compare their distributions). It answers only what most requests are: JSON without
explain or a seed; everything else goes through engine.select, which also says why.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from types import ModuleType

from mirrors.geo_tables import COUNTRY_CONTINENT
from mirrors.mirrorlist.engine.render import entry_json_head, json_answer, memoised_group_json, tiers_json
from mirrors.mirrorlist.engine.select import (
    TIERS,
    Client,
    Query,
    origin_group,
    query_schemes,
    selection_place,
    usable_urls_by_host,
)
from mirrors.mirrorlist.engine.table import CollectionEntry, Table
from mirrors.mirrorlist.engine.weights import KM_PER_RADIAN_PER_HALF, UNKNOWN_FACTOR, position

log = logging.getLogger(__name__)
SOURCE = Path(__file__).with_name("_fastselect.pyx")
_DRAWN_TIERS = TIERS[:5]  # netblock, asn, country, continent, world: the origin is added here


def _load() -> ModuleType | None:
    try:
        from mirrors.mirrorlist.engine import _fastselect
    except ImportError:
        return None
    try:
        current = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    except OSError:  # installed without its source: nothing to be stale against
        current = _fastselect.SOURCE_SHA256
    if current != _fastselect.SOURCE_SHA256:
        log.warning("the compiled mirrorlist lookup was built from another version of %s (make setup rebuilds "
                    "it); the Python lookup serves", SOURCE.name)  # fmt: skip
        return None
    return _fastselect


def _seed(module: ModuleType) -> None:
    module.seed(os.urandom(32))


compiled = _load()
if compiled is not None:
    _seed(compiled)
    # Workers forked from a preloaded master must not all draw the same orders. Bound to the module: tests
    # set `compiled` to None for a while.
    os.register_at_fork(after_in_child=lambda module=compiled: _seed(module))


def build_variant(table: Table, collection: CollectionEntry, schemes: tuple[str, ...], family: int):
    """The compiled form of one (collection, schemes, family) variant: the hosts with a usable URL, their
    weights, positions, restrictions and JSON entries per tier, and the buckets."""
    usable = usable_urls_by_host(collection, schemes, family)
    host_ids = sorted(usable)
    hosts = [table.hosts[host_id] for host_id in host_ids]
    index_of = {host_id: index for index, host_id in enumerate(host_ids)}
    codes = sorted(set(COUNTRY_CONTINENT).union(*(host.allowed_countries for host in hosts)))
    heads = [[entry_json_head(u.url, host.name, host.country) for u in usable[host.id]] for host in hosts]

    def indices(ids: tuple[int, ...]) -> list[int]:
        return [index_of[host_id] for host_id in ids if host_id in index_of]

    return compiled.Variant(
        host_ids=host_ids,
        inverse_bandwidths=[1.0 / max(host.bandwidth, 1) for host in hosts],
        positions=[position(host.latitude, host.longitude) for host in hosts],
        private=[host.private for host in hosts],
        allowed_countries=[host.allowed_countries for host in hosts],
        country_index={code: bit for bit, code in enumerate(codes)},
        entries=[[tiers_json(host_heads, tier) for host_heads in heads] for tier in _DRAWN_TIERS],
        country_buckets={code: indices(ids) for code, ids in collection.by_country.items()},
        continent_buckets={code: indices(ids) for code, ids in collection.by_continent.items()},
        world=indices(collection.public_hosts),
        km_per_radian_per_half=KM_PER_RADIAN_PER_HALF,
        unknown_factor=UNKNOWN_FACTOR,
    )


def fast_json_answer(
    table: Table, collection: CollectionEntry, client: Client, query: Query, *, origin_url: str | None
) -> bytes | None:
    """The JSON answer for an anonymous request without explain or seed, from the compiled lookup; None when
    it is not available (the caller then asks engine.select)."""
    if compiled is None:
        return None
    schemes = query_schemes(query)
    key = ("compiled", schemes, client.family)
    variant = collection.memo.get(key)
    if variant is None:  # made once per table and variant; a race makes it twice, harmlessly
        variant = collection.memo[key] = build_variant(table, collection, schemes, client.family)
    netblocks = table.netblocks.host_ids(client.family, client.address)
    asn_host_ids = table.by_asn.get(client.asn, ()) if client.asn is not None else None
    country, continent = selection_place(table, client, query)
    location = position(client.latitude, client.longitude)
    mirrors = variant.select(netblocks, asn_host_ids, country, continent, client.country, query.country, location,
                             query.max_mirrors, query.min_mirrors)  # fmt: skip
    origin = origin_group(collection, query, origin_url)
    if origin:
        mirrors = f"{mirrors},{memoised_group_json(origin)}" if mirrors else memoised_group_json(origin)
    return json_answer(collection, client, country, continent, mirrors, table_version=table.version)
