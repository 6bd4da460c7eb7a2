"""The three answer formats: JSON (DESIGN.md's shape), plain text, and RFC 5854 metalink."""

from __future__ import annotations

import json
from collections.abc import Sequence
from json.encoder import encode_basestring_ascii as _quote
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from mirrors.mirrorlist.engine.select import Client, Listed, Selection
from mirrors.mirrorlist.engine.table import CollectionEntry

METALINK_NS = "urn:ietf:params:xml:ns:metalink"
# RFC 5854 has no element for "also acceptable" hashes: older revisions a listed mirror may still serve go in
# <mm:alternates><mm:alternate revision=".." timestamp=".."><hash type="sha-256">..</hash><size>..</size>,
# in this extension namespace (RFC 5854 section 4.1: foreign elements are allowed and ignored by others).
MIRRORMANAGER_NS = "urn:x-mirrormanager:metalink:1"
METALINK_CONTENT_TYPE = "application/metalink4+xml"
REPOMD = "repodata/repomd.json"


def selection_document(selection: Selection, *, table_version: int, explain: bool) -> dict[str, Any]:
    current = selection.collection.current
    client = selection.client
    mirrors = []
    for entry in selection.mirrors:
        item: dict[str, Any] = {"url": entry.url, "host": entry.host, "country": entry.country, "tier": entry.tier}
        if explain:
            item["reason"] = entry.reason
        mirrors.append(item)
    document: dict[str, Any] = {
        "collection": selection.collection.slug,
        "revision": current.number if current else None,
        "repomd_sha256": current.sha256 if current else None,
        "timestamp": current.timestamp if current else None,
        **_revision_extras(selection.collection),
        "client": {"ip": client.ip, "country": selection.country, "continent": selection.continent, "asn": client.asn},
        "mirrors": mirrors,
        "table_version": table_version,
    }
    if explain:
        document["excluded"] = [{"url": e.url, "host": e.host, "reason": e.reason} for e in selection.excluded]
    return document


def _revision_extras(collection: CollectionEntry) -> dict[str, Any]:
    """What a client needs to accept a mirror that is a little behind: the older revisions' hashes (the
    metalink's mm:alternates), and the current repomd.json's size when known."""
    extras: dict[str, Any] = {"recent_repomd_sha256": [alternate.sha256 for alternate in collection.alternates]}
    if collection.current is not None and collection.current.size is not None:
        extras["repomd_size"] = collection.current.size
    return extras


def render_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


_dumps = json.JSONEncoder(separators=(",", ":")).encode


# id(a host's group of entries) -> (the group, its JSON objects). The memoised groups are the same objects
# for every anonymous answer of a table and variant; keeping the group in the value keeps its id from being
# reused while memoised. The dict starts again when full, so old tables' groups do not pile up.
_GROUP_JSON: dict[int, tuple[tuple[Listed, ...], str]] = {}
_MAX_GROUP_JSON = 65536


def entry_json_head(url: str, host: str, country: str | None) -> str:
    """An entry's JSON object up to its tier's value: the tier and the closing brace follow (tiers_json)."""
    return _dumps({"url": url, "host": host, "country": country})[:-1] + ',"tier":'


def tiers_json(heads: Sequence[str], tier: str) -> str:
    """A listed host's entries, from their heads, as the JSON objects of the "mirrors" array, comma-separated."""
    tail = _quote(tier) + "}"
    return ",".join(head + tail for head in heads)


def group_json(group: tuple[Listed, ...]) -> str:
    """A listed host's entries (one tier: a group is one host's in one tier) as tiers_json makes them."""
    return tiers_json([entry_json_head(entry.url, entry.host, entry.country) for entry in group], group[0].tier)


def memoised_group_json(group: tuple[Listed, ...]) -> str:
    """group_json of a memoised group (the same tuple from request to request), made once."""
    text = _GROUP_JSON.get(id(group))
    if text is None:
        if len(_GROUP_JSON) >= _MAX_GROUP_JSON:
            _GROUP_JSON.clear()
        _GROUP_JSON[id(group)] = text = (group, group_json(group))
    return text[1]


def _json_head(collection: CollectionEntry) -> str:
    """The collection's part of the JSON answer, up to the client's object (the same for every request)."""
    head = collection.memo.get("json-head")
    if head is None:
        current = collection.current
        fixed = _dumps(
            {
                "collection": collection.slug,
                "revision": current.number if current else None,
                "repomd_sha256": current.sha256 if current else None,
                "timestamp": current.timestamp if current else None,
                **_revision_extras(collection),
            }
        )
        head = collection.memo["json-head"] = fixed[:-1] + ',"client":'
    return head


def json_answer(
    collection: CollectionEntry,
    client: Client,
    country: str | None,
    continent: str | None,
    mirrors_json: str,
    *,
    table_version: int,
) -> bytes:
    """The JSON answer's bytes around the "mirrors" array's contents: the same bytes as render_json of
    selection_document(..., explain=False), from the collection's memoised head."""
    # By hand (json.dumps's Python layers cost more than the rest of this function): the same bytes, as the
    # strings go through the same C escaping and the ASN is an int or None (engine.geo makes sure).
    asn = client.asn
    who = (
        f'{{"ip":{_quote(client.ip)},"country":{"null" if country is None else _quote(country)},'
        f'"continent":{"null" if continent is None else _quote(continent)},'
        f'"asn":{"null" if asn is None else int(asn)}}}'
    )
    return f'{_json_head(collection)}{who},"mirrors":[{mirrors_json}],"table_version":{table_version}}}'.encode()


def render_json_fast(selection: Selection, *, table_version: int) -> bytes:
    """render_json(selection_document(..., explain=False)) from memoised pieces: the collection's head and the
    entries repeat from one request to the next."""
    memo = _GROUP_JSON.get  # the hit inline: eleven groups an answer, each a call saved
    groups = selection.groups
    entries = ",".join([hit[1] if (hit := memo(id(group))) else memoised_group_json(group) for group in groups])
    return json_answer(selection.collection, selection.client, selection.country, selection.continent, entries,
                       table_version=table_version)  # fmt: skip


def render_txt(selection: Selection) -> bytes:
    return "".join(entry.url + "\n" for entry in selection.mirrors).encode()


def render_metalink(selection: Selection, *, table_version: int) -> bytes:
    """One <file name="repomd.json"> with the current hash and size, one <url> per listed mirror (priority 1 is
    the best), and the recent revisions' hashes as mm:alternates."""
    collection = selection.collection
    current = collection.current
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<metalink xmlns="{METALINK_NS}" xmlns:mm="{MIRRORMANAGER_NS}">',
        "  <generator>mirrormanager</generator>",
    ]
    if current is not None:
        lines.append(f"  <published>{escape(current.timestamp)}</published>")
    lines.append('  <file name="repomd.json">')
    if current is not None:
        if current.size is not None:
            lines.append(f"    <size>{current.size}</size>")
        lines.append(f'    <hash type="sha-256">{escape(current.sha256)}</hash>')
        lines.append(
            f'    <mm:revision number="{current.number}" timestamp={quoteattr(current.timestamp)}'
            f' table="{table_version}"/>'
        )
    if collection.alternates:
        lines.append("    <mm:alternates>")
        for alternate in collection.alternates:
            size = f"<size>{alternate.size}</size>" if alternate.size is not None else ""
            lines.append(
                f'      <mm:alternate revision="{alternate.number}" timestamp={quoteattr(alternate.timestamp)}>'
                f'<hash type="sha-256">{escape(alternate.sha256)}</hash>{size}</mm:alternate>'
            )
        lines.append("    </mm:alternates>")
    for priority, entry in enumerate(selection.mirrors, start=1):
        location = f" location={quoteattr(entry.country.lower())}" if entry.country else ""
        lines.append(
            f'    <url priority="{priority}"{location} mm:tier="{entry.tier}">{escape(entry.url + REPOMD)}</url>'
        )
    lines.append("  </file>")
    lines.append("</metalink>")
    return ("\n".join(lines) + "\n").encode()
