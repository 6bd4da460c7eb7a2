"""Parsing simple index pages: PEP 691 JSON and PEP 503 HTML (every data-* attribute kept)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from core.fs import is_sha256
from sync.engine.anchors import AnchorParser, IndexFormatError, feed_html
from sync.engine.names import UnsafeFilename, UnsafeProjectName, check_project_name, parse_filename
from sync.engine.text import is_storable
from sync.records import FileRecord

# The PEP 691 content types of a simple index.
PEP691_JSON = "application/vnd.pypi.simple.v1+json"
PEP691_HTML = "application/vnd.pypi.simple.v1+html"

# Column sizes of sync.models (a test keeps them equal): a longer value is refused while parsing,
# since PostgreSQL would refuse the whole batch it is written in (SQLite stores it silently).
MAX_URL_LENGTH = 1000  # Project.url, File.url
MAX_VERSION_LENGTH = 100  # File.version
MAX_REQUIRES_PYTHON_LENGTH = 500  # File.requires_python
MAX_SERIAL = 2**63 - 1  # BigIntegerField: serials and sizes
MAX_YANKED_REASON_LENGTH = 1000  # File.yanked_reason is text: bounded all the same
# Links on one project page (SYNC_MAX_LINKS_PER_PAGE); a page with more is refused, not read on.
DEFAULT_MAX_LINKS = 50_000
# JSON values (objects, arrays and the values between commas) allowed per link: a page is counted
# before json.loads, which would build every one of them as a Python object.
JSON_VALUES_PER_LINK = 40
# Entry attributes we keep besides the modelled fields (PEP 691/740); anything else is dropped, and
# what is kept is a bool, a number or a short string.
JSON_ATTRIBUTES = frozenset({"gpg-sig", "provenance"})
# An HTML anchor's data-* attributes are kept (PEP 503 allows new ones), at most this many.
MAX_HTML_ATTRIBUTES = 16
MAX_ATTRIBUTE_LENGTH = 1000


@dataclass(frozen=True)
class RemoteProject:
    """A project listed on the root page."""

    name: str
    normalized_name: str
    url: str
    serial: int | None = None


@dataclass(frozen=True)
class RootListing:
    projects: dict[str, RemoteProject]  # by normalized name
    serial: int | None = None
    refused: tuple[tuple[str, str], ...] = ()  # (name as listed, why refused)


@dataclass(frozen=True)
class RemoteFile(FileRecord):
    """One file listed on a project page: its record (sha256 is the index's), where it is, and the
    entry's other attributes."""

    url: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProjectListing:
    files: list[RemoteFile]
    refused: list[tuple[str, str]]  # (name as listed, why refused)
    serial: int | None = None


def is_json(content_type: str, body: bytes) -> bool:
    """PEP 691 JSON or (anything else) PEP 503 HTML."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind.endswith("+json") or kind == "application/json":
        return True
    if kind.endswith("+html") or kind in ("text/html", "application/xhtml+xml"):
        return False
    return body.lstrip()[:1] == b"{"


# -- root page ---------------------------------------------------------------------------------


def parse_root(body: bytes, *, content_type: str, base_url: str) -> RootListing:
    """The projects listed on a root page, with the ones refused and why.

    Names must be valid PEP 508 names (no markup, no path separators, at most 200 characters), and
    project URLs must stay under the upstream's root: base_url, whatever <base href> the page sets.
    """
    projects: dict[str, RemoteProject] = {}
    refused: list[tuple[str, str]] = []
    root_url = base_url
    serial: int | None = None
    if is_json(content_type, body):
        data = _load_json(body)
        serial = _meta_serial(data)
        entries = data.get("projects")
        if not isinstance(entries, list):
            raise IndexFormatError("JSON root page without a 'projects' list")
        raw = []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise IndexFormatError("JSON root page: a project entry without a name")
            raw.append((entry["name"], None, _int_or_none(entry.get("_last-serial"))))
    else:
        parser = AnchorParser(keep=("href",))
        feed_html(parser, body, max_links=None)
        raw = [(text.strip(), attrs.get("href"), None) for attrs, text in parser.anchors]
        base_url = urljoin(base_url, parser.base_href) if parser.base_href else base_url
    for name, href, project_serial in raw:
        if not name:
            continue
        if not is_storable(name) or (href is not None and not is_storable(href)):
            refused.append((name, "a NUL or an invalid character in its name or link"))
            continue
        try:
            normalized = check_project_name(name)
        except UnsafeProjectName as error:
            refused.append((name, str(error)))
            continue
        url = _project_url(base_url, href, normalized, root_url)
        if url is None:
            refused.append((name, "its link leaves the upstream's root"))
            continue
        if len(url) > MAX_URL_LENGTH:
            refused.append((name, f"its URL is longer than {MAX_URL_LENGTH} characters"))
            continue
        projects.setdefault(normalized, RemoteProject(name, normalized, url, project_serial))
    return RootListing(projects=projects, serial=serial, refused=tuple(refused))


def _project_url(base_url: str, href: str | None, normalized: str, root_url: str) -> str | None:
    """The project's page URL; links that leave the upstream's root (root_url) are refused (None)."""
    url = urljoin(base_url, f"{normalized}/") if not href else urldefrag(urljoin(base_url, href)).url
    base, target = urlsplit(root_url), urlsplit(url)
    if (target.scheme, target.netloc) != (base.scheme, base.netloc):
        return None
    root_path = base.path if base.path.endswith("/") else base.path.rsplit("/", 1)[0] + "/"
    if not target.path.startswith(root_path) or ".." in unquote(target.path).split("/"):
        return None
    return url


# -- project pages -----------------------------------------------------------------------------


def parse_project(
    body: bytes,
    *,
    content_type: str,
    base_url: str,
    allowed_schemes: tuple[str, ...],
    max_links: int = DEFAULT_MAX_LINKS,
) -> ProjectListing:
    """The files listed on a project page; unsafe names, URLs and over-long fields are refused, with the reason.

    A page of more than max_links links is refused as a whole (IndexFormatError): a partial listing
    would remove the files it does not reach.
    """
    if is_json(content_type, body):
        values = body.count(b",") + body.count(b"{") + body.count(b"[")
        if values > JSON_VALUES_PER_LINK * max_links + 1000:
            raise IndexFormatError(f"the page holds more than {max_links} links' worth of JSON values, refused")
        data = _load_json(body)
        name = data.get("name")
        if name is not None:
            try:
                check_project_name(name)
            except UnsafeProjectName as error:
                raise IndexFormatError(f"the page names its project {str(name)[:250]!r}: {error}") from error
        return _parse_project_json(data, base_url, allowed_schemes, max_links)
    return _parse_project_html(body, base_url, allowed_schemes, max_links)


def _parse_project_json(
    data: dict[str, Any], base_url: str, allowed_schemes: tuple[str, ...], max_links: int
) -> ProjectListing:
    entries = data.get("files")
    if not isinstance(entries, list):
        raise IndexFormatError("JSON project page without a 'files' list")
    if len(entries) > max_links:
        raise IndexFormatError(f"more than {max_links} files on the page (SYNC_MAX_LINKS_PER_PAGE), refused")
    listing = ProjectListing(files=[], refused=[], serial=_meta_serial(data))
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
            listing.refused.append(("?", "a file entry without a filename"))
            continue
        listed_name = entry["filename"]
        href = entry.get("url")
        if not isinstance(href, str) or not href:
            listing.refused.append((listed_name, "no url"))
            continue
        hashes = entry.get("hashes") if isinstance(entry.get("hashes"), dict) else {}
        yanked = entry.get("yanked", False)
        metadata = entry.get("core-metadata", entry.get("data-dist-info-metadata", entry.get("dist-info-metadata")))
        size = entry.get("size")
        remote = _make_file(
            listed_name=listed_name,
            href=href,
            base_url=base_url,
            allowed_schemes=allowed_schemes,
            listing=listing,
            prefer_listed=True,
            sha256=hashes.get("sha256", "") if isinstance(hashes.get("sha256", ""), str) else "",
            size=size if isinstance(size, int) and not isinstance(size, bool) and 0 <= size <= MAX_SERIAL else None,
            upload_time=_parse_time(entry.get("upload-time")),
            requires_python=_str_or_empty(entry.get("requires-python")),
            yanked=bool(yanked),
            yanked_reason=yanked if isinstance(yanked, str) else "",
            core_metadata_sha256=_json_metadata_hash(metadata),
            attributes=_attributes(entry, JSON_ATTRIBUTES),
        )
        if remote and remote.filename not in seen:
            seen.add(remote.filename)
            listing.files.append(remote)
    return listing


def _parse_project_html(body: bytes, base_url: str, allowed_schemes: tuple[str, ...], max_links: int) -> ProjectListing:
    parser = AnchorParser()
    feed_html(parser, body, max_links=max_links)
    if parser.base_href:
        base_url = urljoin(base_url, parser.base_href)
    listing = ProjectListing(files=[], refused=[])
    seen: set[str] = set()
    for attrs, text in parser.anchors:
        href = attrs.get("href")
        if not href:
            listing.refused.append((text.strip() or "?", "a link without href"))
            continue
        fragment = urldefrag(href).fragment
        sha256 = ""
        if fragment.startswith("sha256="):
            sha256 = fragment.split("=", 1)[1]
        yanked = "data-yanked" in attrs
        metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        remote = _make_file(
            listed_name=text.strip(),
            href=href,
            base_url=base_url,
            allowed_schemes=allowed_schemes,
            listing=listing,
            sha256=sha256,
            size=None,
            upload_time=None,
            requires_python=attrs.get("data-requires-python") or "",
            yanked=yanked,
            yanked_reason=(attrs.get("data-yanked") or "") if yanked else "",
            core_metadata_sha256=_html_metadata_hash(metadata),
            attributes=_attributes(attrs, [key for key in attrs if key.startswith("data-")][:MAX_HTML_ATTRIBUTES]),
        )
        if remote and remote.filename not in seen:
            seen.add(remote.filename)
            listing.files.append(remote)
    return listing


def _make_file(
    *,
    listed_name: str,
    href: str,
    base_url: str,
    allowed_schemes: tuple[str, ...],
    listing: ProjectListing,
    sha256: str,
    prefer_listed: bool = False,
    **fields: Any,
) -> RemoteFile | None:
    url = urldefrag(urljoin(base_url, href)).url
    scheme = urlsplit(url).scheme
    # The file name is the last path segment of the URL (PEP 503): that is what we would store.
    path = urlsplit(url).path
    filename = unquote(path.rsplit("/", 1)[-1]) if path else ""
    if prefer_listed or "/" in listed_name or "\\" in listed_name or ".." in listed_name:
        # JSON names the file itself; an anchor text that claims a path is refused, not guessed at.
        filename = listed_name
    if scheme not in allowed_schemes:
        listing.refused.append((listed_name or url, f"URL scheme {scheme!r} is not allowed for this upstream"))
        return None
    try:
        parsed = parse_filename(filename)
    except UnsafeFilename as error:
        listing.refused.append((listed_name or filename, str(error)))
        return None
    unstorable = [
        label
        for label, value in (
            ("URL", url),
            ("requires-python", fields.get("requires_python", "")),
            ("yanked reason", fields.get("yanked_reason", "")),
        )
        if not is_storable(value)
    ]
    if unstorable:
        # PostgreSQL refuses NUL (and every database invalid UTF-8): the whole batch would fail.
        listing.refused.append((filename, f"a NUL or an invalid character in its {', '.join(unstorable)}"))
        return None
    fields["yanked_reason"] = fields.get("yanked_reason", "")[:MAX_YANKED_REASON_LENGTH]
    if sha256 and not is_sha256(sha256.lower()):
        listing.refused.append((filename, f"malformed sha256 {sha256[:80]!r}"))
        return None
    too_long = [
        label
        for label, value, limit in (
            ("URL", url, MAX_URL_LENGTH),
            ("version", parsed.version, MAX_VERSION_LENGTH),
            ("requires-python", fields.get("requires_python", ""), MAX_REQUIRES_PYTHON_LENGTH),
        )
        if len(value) > limit
    ]
    if too_long:
        listing.refused.append((filename, f"{', '.join(too_long)} longer than the catalogue holds"))
        return None
    return RemoteFile(
        filename=filename,
        url=url,
        version=parsed.version,
        package_type=parsed.package_type,
        sha256=sha256.lower(),
        **fields,
    )


def _attributes(source: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The entry's attributes worth keeping: known keys only, scalar and short values, storable text."""
    kept: dict[str, Any] = {}
    for key in keys:
        value = source.get(key)
        if isinstance(value, bool) or value is None:
            if key in source:
                kept[key] = value
        elif isinstance(value, int) and abs(value) <= MAX_SERIAL:
            kept[key] = value
        elif isinstance(value, str) and len(value) <= MAX_ATTRIBUTE_LENGTH and is_storable(value):
            kept[key] = value
    return kept


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _load_json(body: bytes) -> dict[str, Any]:
    try:
        # NaN and Infinity are Python's extension, not JSON: no database stores them in a JSON column.
        data = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError as error:
        raise IndexFormatError("invalid JSON: nested too deep") from error
    except ValueError as error:  # UnicodeDecodeError included
        raise IndexFormatError(f"invalid JSON: {str(error)[:200]}") from error
    if not isinstance(data, dict):
        raise IndexFormatError("a JSON index page must be an object")
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise IndexFormatError("the page's 'meta' is not an object")
    version = str(meta.get("api-version", "1.0"))[:20]
    if version.split(".", 1)[0] != "1":
        raise IndexFormatError(f"unsupported simple API version {version}")
    return data


def _meta_serial(data: dict[str, Any]) -> int | None:
    meta = data.get("meta")
    return _int_or_none(meta.get("_last-serial")) if isinstance(meta, dict) else None


def _int_or_none(value: Any) -> int | None:
    """A serial: a non-negative integer that fits a BigIntegerField, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit() and len(value) < 20:
        value = int(value)
    if isinstance(value, int) and 0 <= value <= MAX_SERIAL:
        return value
    return None


def _str_or_empty(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _html_metadata_hash(value: str | None) -> str:
    """data-core-metadata: absent = "", "true" or a non-sha256 hash = "-", "sha256=<hex>" = hex."""
    if value is None or value.strip().lower() == "false":
        return ""
    if value.startswith("sha256="):
        digest = value.split("=", 1)[1].strip()
        if is_sha256(digest.lower()):
            return digest.lower()
    return "-"


def _json_metadata_hash(value: Any) -> str:
    if value is None or value is False:
        return ""
    if isinstance(value, dict):
        digest = value.get("sha256")
        if isinstance(digest, str) and is_sha256(digest.lower()):
            return digest.lower()
    return "-"
