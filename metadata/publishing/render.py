"""Bytes of the simple index pages (PEP 503 HTML, PEP 691 JSON with PEP 700 fields).

Pure functions: the same input gives the same bytes, so a full republish of the same catalogue
writes nothing. Links are relative, so a tree works wherever it is served.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from packaging.version import InvalidVersion, Version

from core.fs import sha256_fanout
from sync.records import FILE_RECORD_FIELDS, FileRecord

API_VERSION = "1.1"


def iso_time(moment: datetime | None) -> str:
    """PEP 700 upload-time: ISO 8601 in UTC with microseconds and 'Z' ("" for none)."""
    if not moment:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class PublishedFile(FileRecord):
    """One file as the tree publishes it: its record, with the size known and core_metadata_sha256 the
    hash of the published .metadata file ("" when none)."""

    upload_time_iso: str = field(init=False, default="")

    def __post_init__(self) -> None:
        # Formatted once: every file is written to a page, the state and primary data.
        object.__setattr__(self, "upload_time_iso", iso_time(self.upload_time))

    @classmethod
    def of(cls, record: FileRecord, *, size: int, core_metadata_sha256: str) -> PublishedFile:
        """The published form of a catalogue record."""
        values = {name: getattr(record, name) for name in FILE_RECORD_FIELDS}
        return cls(**{**values, "size": size, "core_metadata_sha256": core_metadata_sha256})

    @property
    def location(self) -> str:
        """Path of the file inside the collection's tree."""
        return package_location(self.sha256, self.filename)

    def as_json(self) -> dict:
        """The file's entry in primary.json (and its row in primary.sqlite)."""
        return {
            "filename": self.filename,
            "version": self.version,
            "package_type": self.package_type,
            "sha256": self.sha256,
            "size": self.size,
            "upload_time": self.upload_time_iso or None,
            "requires_python": self.requires_python or None,
            "yanked": self.yanked,
            "yanked_reason": self.yanked_reason or None,
            "core_metadata_sha256": self.core_metadata_sha256 or None,
            "location": self.location,
        }


def package_location(sha256: str, filename: str) -> str:
    """packages/<aa>/<bb>/<sha256>/<filename>, relative to the collection root."""
    return f"packages/{sha256_fanout(sha256)}/{filename}"


def _href(file: PublishedFile) -> str:
    # From simple/<project>/ back to the collection root.
    return f"../../{quote(file.location)}"


def _version_key(version: str) -> tuple:
    try:
        return (1, Version(version), "")
    except InvalidVersion:
        return (0, Version("0"), version)


def sorted_versions(files: Iterable[PublishedFile]) -> list[str]:
    """Distinct versions, oldest first by PEP 440 (unparsable ones first, by text)."""
    return sorted({file.version for file in files if file.version}, key=_version_key)


def _esc(text: str) -> str:
    """Every attribute value and text of a page goes through this: quotes, <, > and & escaped."""
    return html.escape(text, quote=True)


def project_html(display_name: str, files: list[PublishedFile]) -> bytes:
    """PEP 503 project page with PEP 592/658/714 attributes."""
    title = _esc(display_name)
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "<head>",
        f'<meta name="pypi:repository-version" content="{API_VERSION}">',
        f"<title>Links for {title}</title>",
        "</head>",
        "<body>",
        f"<h1>Links for {title}</h1>",
    ]
    for file in files:
        attrs = [f'href="{_esc(f"{_href(file)}#sha256={file.sha256}")}"']
        if file.requires_python:
            attrs.append(f'data-requires-python="{_esc(file.requires_python)}"')
        if file.yanked:
            attrs.append(f'data-yanked="{_esc(file.yanked_reason)}"')
        if file.core_metadata_sha256:
            value = _esc(f"sha256={file.core_metadata_sha256}")
            attrs.append(f'data-dist-info-metadata="{value}"')
            attrs.append(f'data-core-metadata="{value}"')
        lines.append(f"<a {' '.join(attrs)}>{_esc(file.filename)}</a><br>")
    lines.extend(["</body>", "</html>", ""])
    return "\n".join(lines).encode()


def project_json(normalized_name: str, last_serial: int, files: list[PublishedFile]) -> bytes:
    """PEP 691 project page (api-version 1.1: size, upload-time, versions)."""
    entries = []
    for file in files:
        entry: dict = {
            "filename": file.filename,
            "url": _href(file),
            "hashes": {"sha256": file.sha256},
        }
        if file.requires_python:
            entry["requires-python"] = file.requires_python
        entry["size"] = file.size
        if file.upload_time_iso:
            entry["upload-time"] = file.upload_time_iso
        entry["yanked"] = (file.yanked_reason or True) if file.yanked else False
        metadata = {"sha256": file.core_metadata_sha256} if file.core_metadata_sha256 else False
        entry["core-metadata"] = metadata
        entry["dist-info-metadata"] = metadata
        entries.append(entry)
    page = {
        "meta": {"api-version": API_VERSION, "_last-serial": last_serial},
        "name": normalized_name,
        "versions": sorted_versions(files),
        "files": entries,
    }
    return (json.dumps(page, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


ROOT_HTML_HEADER = (
    "<!DOCTYPE html>\n<html>\n<head>\n"
    f'<meta name="pypi:repository-version" content="{API_VERSION}">\n'
    "<title>Simple index</title>\n</head>\n<body>\n"
).encode()
ROOT_HTML_FOOTER = b"</body>\n</html>\n"
ROOT_JSON_FOOTER = b"]}\n"


def root_html_entry(normalized: str, display: str) -> str:
    """One project's line of the PEP 503 root page."""
    return f'<a href="{_esc(normalized)}/">{_esc(display)}</a><br>\n'


def root_json_entry(display: str, serial: int) -> str:
    """One project's entry of the PEP 691 root page (without the separating comma)."""
    return json.dumps({"name": display, "_last-serial": serial}, separators=(",", ":"), ensure_ascii=False)


def root_json_header(last_serial: int) -> bytes:
    """The PEP 691 root page up to its first project entry."""
    meta = json.dumps({"api-version": API_VERSION, "_last-serial": last_serial}, separators=(",", ":"))
    return f'{{"meta":{meta},"projects":['.encode()


def root_html_chunks(projects: Iterable[tuple[str, str, int]]) -> Iterable[bytes]:
    """PEP 503 root page, streamed: projects are (normalized, display name, serial) by name.

    The publisher assembles the same bytes from cached parts (metadata.publishing.parts); this
    one-pass form is the reference its tests compare with.
    """
    yield ROOT_HTML_HEADER
    batch = []
    for normalized, display, _serial in projects:
        batch.append(root_html_entry(normalized, display))
        if len(batch) >= 5000:
            yield "".join(batch).encode()
            batch = []
    yield "".join(batch).encode() + ROOT_HTML_FOOTER


def root_json_chunks(projects: Iterable[tuple[str, str, int]], last_serial: int) -> Iterable[bytes]:
    """PEP 691 root page, streamed (the reference form, like root_html_chunks)."""
    yield root_json_header(last_serial)
    batch = []
    first = True
    for _normalized, display, serial in projects:
        entry = root_json_entry(display, serial)
        batch.append(entry if first else "," + entry)
        first = False
        if len(batch) >= 5000:
            yield "".join(batch).encode()
            batch = []
    yield "".join(batch).encode() + ROOT_JSON_FOOTER
