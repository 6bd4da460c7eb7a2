"""The origin's mirrorlist: asked as a metalink, or as JSON when that fails, and cached on disk.

Metalink (RFC 5854, `application/metalink4+xml`), as `GET <origin>/api/v1/mirrorlist/<slug>/?format=metalink`:
one `<file name="repomd.json">` with `<size>`, `<hash type="sha-256">` (the current revision's
repomd.json), one `<url priority="N">` per mirror (`<base URL>repodata/repomd.json`), and the hashes of
recent revisions that the origin still allows, in our extension namespace (docs/clients.md):

    <mm:revision number="42" timestamp="…"/>
    <mm:alternates>
      <mm:alternate revision="41" timestamp="…"><hash type="sha-256">…</hash></mm:alternate>
    </mm:alternates>

JSON (the default format): `collection`, `revision`, `repomd_sha256`, optional `recent_repomd_sha256`
(a list of hashes) and `mirrors` (each with `url`, the base URL of the collection's tree).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import xml.etree.ElementTree as ET  # noqa: S405 - no DTDs or external entities: refused below
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from mm_mirror import httpget
from mm_mirror.errors import OriginError

METALINK_NS = "urn:ietf:params:xml:ns:metalink"
MM_NS = "urn:x-mirrormanager:metalink:1"  # as mirrors.mirrorlist writes it (docs/mirrorlist.md)
METALINK_TYPE = "application/metalink4+xml"
REPOMD_SUFFIX = "repodata/repomd.json"
HEX = set("0123456789abcdef")


@dataclass(frozen=True)
class Mirror:
    url: str  # base URL of the collection's tree, ending with /
    tier: str = ""
    priority: int = 0

    @property
    def index_url(self) -> str:
        return self.url + "simple/"


@dataclass
class Mirrorlist:
    collection: str
    revision: int
    repomd_sha256: str
    recent_repomd_sha256: list[str]
    mirrors: list[Mirror]
    fetched_at: float = 0.0  # time.time() when the origin answered
    source: str = "origin"  # or "cache"
    repomd_size: int = -1

    @property
    def allowed(self) -> set[str]:
        return {self.repomd_sha256, *self.recent_repomd_sha256}

    def age(self, now: float | None = None) -> float:
        return max(0.0, (now or time.time()) - self.fetched_at)

    def as_json(self) -> dict:
        data = asdict(self)
        data.pop("source")
        return data

    @classmethod
    def from_cache(cls, data: dict) -> Mirrorlist:
        mirrors = [Mirror(**mirror) for mirror in data.pop("mirrors")]
        return cls(mirrors=mirrors, source="cache", **data)


class MirrorlistError(ValueError):
    pass


def _sha256(value: object) -> str:
    text = str(value or "").strip().lower()
    if len(text) != 64 or not set(text) <= HEX:
        raise MirrorlistError(f"{value!r} is not a sha256 hex digest")
    return text


def _base_url(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None  # rsync and others: not for installers
    return url.strip().rstrip("/") + "/"


def parse_json(data: bytes) -> Mirrorlist:
    try:
        document = json.loads(data)
        if document.get("repomd_sha256") is None and "mirrors" in document:
            raise MirrorlistError(f"collection {document.get('collection')!r} has no published revision yet")
        mirrors = []
        for index, entry in enumerate(document["mirrors"]):
            base = _base_url(str(entry["url"]))
            if base:
                mirrors.append(Mirror(url=base, tier=str(entry.get("tier", "")), priority=index + 1))
        return Mirrorlist(
            collection=str(document["collection"]),
            revision=int(document["revision"]),
            repomd_sha256=_sha256(document["repomd_sha256"]),
            recent_repomd_sha256=[_sha256(value) for value in document.get("recent_repomd_sha256") or []],
            mirrors=mirrors,
            repomd_size=int(document.get("repomd_size", -1)),
        )
    except MirrorlistError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise MirrorlistError(f"not a mirrorlist JSON answer: {error}") from None


def _hash_of(element: ET.Element) -> str | None:
    for child in element:
        if child.tag in (f"{{{METALINK_NS}}}hash", f"{{{MM_NS}}}hash") and child.get("type") in ("sha-256", "sha256"):
            return _sha256(child.text)
    return None


def parse_metalink(data: bytes, collection: str) -> Mirrorlist:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise MirrorlistError("a metalink with a DTD is refused")
    try:
        root = ET.fromstring(data)  # noqa: S314 - DTDs refused above, so no entity expansion
    except ET.ParseError as error:
        raise MirrorlistError(f"not XML: {error}") from None
    if root.tag != f"{{{METALINK_NS}}}metalink":
        raise MirrorlistError("not a metalink 4 document")
    file = next((f for f in root.iter(f"{{{METALINK_NS}}}file") if f.get("name", "").endswith("repomd.json")), None)
    if file is None:
        raise MirrorlistError("the metalink describes no repomd.json")
    current = _hash_of(file)
    if current is None:
        raise MirrorlistError("the metalink gives no sha-256 of repomd.json")
    recent = []
    for alternate in file.iter(f"{{{MM_NS}}}alternate"):
        value = _hash_of(alternate)
        if value and value != current:
            recent.append(value)
    mirrors = []
    for url in file.iter(f"{{{METALINK_NS}}}url"):
        text = (url.text or "").strip()
        if not text.endswith(REPOMD_SUFFIX):
            continue
        base = _base_url(text[: -len(REPOMD_SUFFIX)])
        if base:
            priority = int(url.get("priority") or 999999)
            mirrors.append(Mirror(url=base, tier=url.get(f"{{{MM_NS}}}tier", ""), priority=priority))
    mirrors.sort(key=lambda mirror: mirror.priority)  # stable: document order within a priority
    size_text = file.findtext(f"{{{METALINK_NS}}}size")
    revision = file.find(f"{{{MM_NS}}}revision")
    revision_text = (revision.get("number") or revision.text or "0") if revision is not None else "0"
    try:
        return Mirrorlist(
            collection=collection,
            revision=int(revision_text),
            repomd_sha256=current,
            recent_repomd_sha256=recent,
            mirrors=mirrors,
            repomd_size=int(size_text) if size_text else -1,
        )
    except ValueError as error:
        raise MirrorlistError(f"bad number in the metalink: {error}") from None


def mirrorlist_url(origin: str, collection: str, fmt: str) -> str:
    return f"{origin}api/v1/mirrorlist/{quote(collection, safe='')}/?format={fmt}"


class MirrorlistRefused(OriginError):
    """The origin answered, and said no (4xx): the cache must not hide that (an unknown collection, say)."""


def fetch(origin: str, collection: str, *, timeout: float) -> Mirrorlist:
    """The metalink, or the JSON answer when the metalink is refused or unreadable.

    OriginError when the origin is unreachable (the JSON form is not tried then: it would only double
    the wait), MirrorlistRefused when it answers the JSON form with a 4xx.
    """
    errors = []
    for fmt, accept in (("metalink", METALINK_TYPE), ("json", "application/json")):
        try:
            response = httpget.request(
                mirrorlist_url(origin, collection, fmt), headers={"Accept": accept}, timeout=timeout
            )
        except httpget.FetchError as error:
            errors.append(f"{fmt}: {error}")
            break
        try:
            if response.status != 200:
                message = response.body[:300].decode("utf-8", "replace").strip()
                if fmt == "json" and 400 <= response.status < 500:
                    raise MirrorlistRefused(f"mirrorlist of {collection!r}: HTTP {response.status}: {message}")
                raise MirrorlistError(f"HTTP {response.status}: {message}")
            if fmt == "metalink":
                mirrorlist = parse_metalink(response.body, collection)
            else:
                mirrorlist = parse_json(response.body)
        except MirrorlistError as error:
            errors.append(f"{fmt}: {error}")
            continue
        mirrorlist.fetched_at = time.time()
        return mirrorlist
    raise OriginError(f"mirrorlist of {collection!r} from {origin}: " + "; ".join(errors))


@dataclass
class MirrorlistCache:
    """The last good answer per origin and collection, with the time it was fetched."""

    directory: Path
    log: list[str] = field(default_factory=list)

    def path(self, origin: str, collection: str) -> Path:
        key = hashlib.sha256(origin.encode()).hexdigest()[:16]
        return self.directory / f"mirrorlist-{key}-{quote(collection, safe='')}.json"

    def load(self, origin: str, collection: str) -> Mirrorlist | None:
        try:
            data = json.loads(self.path(origin, collection).read_text())
            return Mirrorlist.from_cache(data)
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def store(self, origin: str, mirrorlist: Mirrorlist) -> None:
        target = self.path(origin, mirrorlist.collection)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".mirrorlist-")
            with os.fdopen(fd, "w") as handle:
                json.dump(mirrorlist.as_json(), handle)
            os.replace(tmp, target)
        except OSError as error:  # a read-only cache costs the fallback, not the install
            self.log.append(f"could not write the mirrorlist cache {target}: {error}")


def load(origin: str, collection: str, *, cache: MirrorlistCache, timeout: float, log=None) -> Mirrorlist:
    """From the origin (and cached), or from the cache with its age when the origin does not answer."""
    try:
        mirrorlist = fetch(origin, collection, timeout=timeout)
    except MirrorlistRefused:
        raise
    except OriginError as error:
        cached = cache.load(origin, collection)
        if cached is None:
            raise OriginError(f"{error}; and no cached mirrorlist") from None
        if log:
            log(f"origin unreachable ({error}); using the cached mirrorlist, {cached.age():.0f} s old")
        return cached
    cache.store(origin, mirrorlist)
    return mirrorlist
