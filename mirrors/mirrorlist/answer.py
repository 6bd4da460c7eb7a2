"""One mirrorlist answer, shared by the DRF view and the WSGI fast path: parameters in, bytes out.

Reads only the in-memory table (runtime.holder) and the GeoIP files: never the database.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from mirrors.geo_tables import COUNTRY_CONTINENT
from mirrors.mirrorlist import runtime
from mirrors.mirrorlist.engine.address import client_address, parse_address
from mirrors.mirrorlist.engine.fast import fast_json_answer
from mirrors.mirrorlist.engine.render import (
    METALINK_CONTENT_TYPE,
    render_json,
    render_json_fast,
    render_metalink,
    render_txt,
    selection_document,
)
from mirrors.mirrorlist.engine.select import PROTOCOLS, Client, Query, select_mirrors

FORMATS = ("json", "txt", "metalink")
ADMIN_PARAMETERS = ("ip", "explain")
_SEED_MAX = 2**63
_rng = random.Random()
# Workers forked from a preloaded master must not all draw the same orders.
os.register_at_fork(after_in_child=_rng.seed)
_COUNTRY_RE = re.compile(r"[A-Za-z]{2}")


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, detail: str) -> Answer:
    return Answer(status, "application/json", json.dumps({"detail": detail}).encode(), {"Cache-Control": "no-store"})


@lru_cache(maxsize=256)
def _query(protocol: str | None, country: str | None, min_mirrors: int, max_mirrors: int, explain: bool) -> Query:
    """Queries repeat (most ask for nothing but the defaults): one immutable object for each."""
    return Query(protocol=protocol, country=country, min_mirrors=min_mirrors, max_mirrors=max_mirrors, explain=explain)


def _flag(value: str | None) -> bool | None:
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no", ""):
        return False
    return None


@dataclass(frozen=True, slots=True)
class Options:
    """A request's parameters, validated."""

    fmt: str = "json"
    protocol: str | None = None
    country: str | None = None
    explain: bool = False
    seed: int | None = None
    ip: str | None = None


_DEFAULT_OPTIONS = Options()  # what most installers send: no parameters at all


def parse_options(params: Mapping[str, str], *, is_admin: bool) -> Options | Answer:
    """The validated options, or the 400/403 answer that says what is wrong."""
    if not params:
        return _DEFAULT_OPTIONS
    fmt = params.get("format", "json")
    if fmt not in FORMATS:
        return error(400, f"format must be one of {', '.join(FORMATS)}, not {fmt[:40]!r}")
    protocol = params.get("protocol") or None
    if protocol is not None and protocol not in PROTOCOLS:
        return error(400, f"protocol must be one of {', '.join(PROTOCOLS)}, not {protocol[:40]!r}")
    country = params.get("country") or None
    if country is not None:
        if not _COUNTRY_RE.fullmatch(country) or country.upper() not in COUNTRY_CONTINENT:
            return error(400, f"country must be an ISO 3166-1 alpha-2 code such as DE, not {country[:40]!r}")
        country = country.upper()
    explain = _flag(params.get("explain"))
    if explain is None:
        return error(400, "explain must be 1 or 0")
    seed_text = params.get("seed")
    seed = None
    if seed_text is not None:
        if not seed_text.isdigit() or int(seed_text) >= _SEED_MAX:
            return error(400, f"seed must be a whole number below 2**63, not {seed_text[:40]!r}")
        seed = int(seed_text)
    requested_ip = params.get("ip")
    if (requested_ip is not None or explain) and not is_admin:
        return error(403, "ip= and explain= are for admins only (a staff session or token)")
    return Options(fmt, protocol, country, explain, seed, requested_ip)


def mirrorlist_answer(
    slug: str,
    params: Mapping[str, str],
    *,
    peer: str,
    forwarded_for: str | None,
    request_base_url: str,
    is_admin: bool,
) -> Answer:
    """Validate the parameters, find the client, select and render. `request_base_url` is the origin's base
    as the request saw it (used when ORIGIN_BASE_URL is unset)."""
    cfg = runtime.config()
    options = parse_options(params, is_admin=is_admin)
    if type(options) is Answer:
        return options
    fmt, explain, seed, requested_ip = options.fmt, options.explain, options.seed, options.ip
    if requested_ip is not None:
        address = parse_address(requested_ip)
        if address is None:
            return error(400, f"ip must be an IPv4 or IPv6 address, not {requested_ip[:60]!r}")
    else:
        address = client_address(peer, forwarded_for, cfg.trusted_proxies)
        if address is None:
            return error(400, "the client address could not be determined")

    table = runtime.holder().table()
    if table is None:
        return error(503, "the mirrorlist table is not built yet; try again shortly")
    collection = table.collections.get(slug)
    if collection is None:
        return error(404, f"no collection {slug[:100]!r}")

    geo = runtime.geo().lookup(address.text)
    client = Client(address.text, address.family, address.value, geo.country, geo.continent, geo.asn, geo.latitude,
                    geo.longitude)  # fmt: skip
    query = _query(options.protocol, options.country, cfg.min_mirrors, cfg.max_mirrors, explain)
    origin_url = f"{table.origin_base_url or request_base_url}pub/{slug}/"
    headers = {
        "Cache-Control": "private, no-store"
        if (explain or requested_ip is not None)
        else f"private, max-age={cfg.cache_seconds}",
        "X-Mirrorlist-Version": str(table.version),
    }
    if fmt == "json" and not explain and seed is None and cfg.compiled_lookup:
        body = fast_json_answer(table, collection, client, query, origin_url=origin_url)
        if body is not None:
            return Answer(200, "application/json", body, headers)
    selection = select_mirrors(
        table, collection, client, query, rng=random.Random(seed) if seed is not None else _rng, origin_url=origin_url
    )
    if fmt == "txt":
        return Answer(200, "text/plain; charset=utf-8", render_txt(selection), headers)
    if fmt == "metalink":
        return Answer(200, METALINK_CONTENT_TYPE, render_metalink(selection, table_version=table.version), headers)
    if not explain:
        return Answer(200, "application/json", render_json_fast(selection, table_version=table.version), headers)
    document = selection_document(selection, table_version=table.version, explain=explain)
    return Answer(200, "application/json", render_json(document), headers)
