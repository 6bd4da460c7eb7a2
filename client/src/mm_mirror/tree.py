"""Reading a copy of a collection's published tree, and checking it against its own manifest.

The tree (docs/publishing.md of mirrormanager): `repodata/repomd.json` names the repodata files
(location, sha256 and size of the gzip file, open_sha256 and open_size of its content);
`primary.json.gz` lists every project a line with its files (location, size, sha256, and
core_metadata_sha256 when a PEP 658 `.metadata` file is published beside the file) as of the last
rebase, and `primary-updates.json.gz` the projects changed since (the same lines; a removed project's
line says `"removed": true`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

REPOMD = "repodata/repomd.json"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Gap:
    """One thing a copy lacks: kind is missing, size, sha256 or unreadable."""

    kind: str
    path: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class DataEntry:
    """A repodata file as repomd.json names it."""

    key: str
    location: str
    sha256: str
    size: int
    open_sha256: str
    open_size: int


@dataclass(frozen=True)
class ListedFile:
    """A file that primary.json lists (and its .metadata, when one is published)."""

    location: str
    size: int
    sha256: str
    core_metadata_sha256: str


@dataclass(frozen=True)
class Repomd:
    revision: int
    collection: str
    sha256: str  # of the repomd.json bytes themselves
    data: tuple[DataEntry, ...]

    def entry(self, key: str) -> DataEntry | None:
        return next((entry for entry in self.data if entry.key == key), None)


class TreeError(ValueError):
    """A manifest that cannot be read at all."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def safe_relative(location: object) -> str:
    """A location from a manifest, refused when it could point outside the tree."""
    if not isinstance(location, str) or not location or "\x00" in location or "\\" in location:
        raise TreeError(f"bad location {location!r}")
    path = PurePosixPath(location)
    if path.is_absolute() or ".." in path.parts or str(path) != location:
        raise TreeError(f"location {location!r} is outside the tree")
    return location


def parse_repomd(data: bytes) -> Repomd:
    try:
        document = json.loads(data)
        entries = tuple(
            DataEntry(
                key=str(key),
                location=safe_relative(value["location"]),
                sha256=str(value["sha256"]),
                size=int(value["size"]),
                open_sha256=str(value.get("open_sha256") or ""),
                open_size=int(value.get("open_size") or -1),
            )
            for key, value in document["data"].items()
        )
        return Repomd(
            revision=int(document["revision"]),
            collection=str(document.get("collection", "")),
            sha256=hashlib.sha256(data).hexdigest(),
            data=entries,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise TreeError(f"repomd.json is not a version 1 manifest: {error}") from None


def read_repomd(path: Path) -> Repomd:
    return parse_repomd(path.read_bytes())


class _HashingReader:
    """Counts and hashes what is read through it (the open content of primary.json.gz)."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def readline(self) -> bytes:
        line = self.raw.readline()
        self.sha256.update(line)
        self.size += len(line)
        return line


def iter_projects(path: Path, entry: DataEntry | None = None) -> Iterator[dict]:
    """Every project a primary.json.gz (or its updates) lists, streamed a project at a time; TreeError when
    it is unreadable.

    Each project is on a line of its own (docs/publishing.md), so memory stays flat. With `entry`,
    the open content is also checked against open_sha256 at the end.
    """
    try:
        with gzip.open(path, "rb") as raw:
            reader = _HashingReader(raw)
            header = reader.readline()
            if not header.startswith(b'{"version":1') or not header.rstrip().endswith(b"["):
                raise TreeError(f"{path.name} does not start like a version 1 primary.json")
            while line := reader.readline():
                text = line.strip()
                if text in (b"]}", b""):
                    continue
                project = json.loads(text[:-1] if text.endswith(b",") else text)
                if not isinstance(project, dict) or not isinstance(project.get("name"), str):
                    raise TreeError(f"{path.name}: a project line without a name")
                yield project
    except (OSError, EOFError, ValueError, KeyError, TypeError) as error:
        if isinstance(error, TreeError):
            raise
        raise TreeError(f"{path.name} is unreadable: {error}") from None
    if entry is not None and entry.open_sha256 and reader.sha256.hexdigest() != entry.open_sha256:
        raise TreeError(f"{path.name}: its content does not hash to the open_sha256 of repomd.json")


def _listed_files(project: dict, source: str) -> list[ListedFile]:
    """The files of one project line; TreeError (naming `source`) when they are malformed."""
    try:
        return [
            ListedFile(
                location=safe_relative(file["location"]),
                size=int(file["size"]),
                sha256=str(file["sha256"]),
                core_metadata_sha256=str(file.get("core_metadata_sha256") or ""),
            )
            for file in project["files"]
        ]
    except (ValueError, KeyError, TypeError) as error:
        if isinstance(error, TreeError):
            raise
        raise TreeError(f"{source} is unreadable: {error}") from None


def iter_primary(path: Path, entry: DataEntry | None = None) -> Iterator[ListedFile]:
    """Every file one primary.json.gz (or its updates) lists (see iter_projects); a removed project lists none."""
    for project in iter_projects(path, entry):
        if not project.get("removed"):
            yield from _listed_files(project, path.name)


def iter_listed(root: Path, primary: DataEntry, updates: DataEntry | None) -> Iterator[ListedFile]:
    """Every file the revision lists: the base's projects that the updates do not name, then the updates'
    projects (a line marked "removed" drops its project). The updates are held in memory: an origin keeps
    them a small share of the collection."""
    changed: dict[str, dict] = {}
    if updates is not None:
        changed = {project["name"]: project for project in iter_projects(root / updates.location, updates)}
    for project in iter_projects(root / primary.location, primary):
        if project["name"] not in changed:
            yield from _listed_files(project, primary.location)
    for project in changed.values():
        if not project.get("removed"):
            yield from _listed_files(project, updates.location)


def check_data_file(root: Path, entry: DataEntry) -> Gap | None:
    path = root / entry.location
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return Gap("missing", entry.location, f"repodata file {entry.key}")
    if size != entry.size:
        return Gap("size", entry.location, f"{size} bytes, repomd.json says {entry.size}")
    if file_sha256(path) != entry.sha256:
        return Gap("sha256", entry.location, "does not match repomd.json")
    return None


def _check_listed(root: Path, file: ListedFile, hashes: bool) -> list[Gap]:
    gaps: list[Gap] = []
    path = root / file.location
    try:
        size = path.stat().st_size
    except (FileNotFoundError, NotADirectoryError):
        gaps.append(Gap("missing", file.location))
    else:
        if size != file.size:
            gaps.append(Gap("size", file.location, f"{size} bytes, primary says {file.size}"))
        elif hashes and file_sha256(path) != file.sha256:
            gaps.append(Gap("sha256", file.location, "does not match primary"))
    if file.core_metadata_sha256:
        metadata = root / (file.location + ".metadata")
        if not metadata.is_file():
            gaps.append(Gap("missing", file.location + ".metadata"))
        elif hashes and file_sha256(metadata) != file.core_metadata_sha256:
            gaps.append(Gap("sha256", file.location + ".metadata", "does not match primary"))
    return gaps


@dataclass
class CheckResult:
    repomd: Repomd | None
    gaps: list[Gap]
    files: int = 0
    bytes: int = 0

    @property
    def whole(self) -> bool:
        return self.repomd is not None and not self.gaps


def check_tree(root: Path, *, repomd_path: Path | None = None, hashes: bool = False, workers: int = 4) -> CheckResult:
    """Every repodata file repomd.json names (sha256 and size) and every file primary lists (size;
    sha256 too with `hashes`). `repomd_path` checks a manifest that is not in place yet (sync)."""
    repomd_path = repomd_path or root / REPOMD
    try:
        repomd = read_repomd(repomd_path)
    except FileNotFoundError:
        return CheckResult(None, [Gap("missing", REPOMD)])
    except (OSError, TreeError) as error:
        return CheckResult(None, [Gap("unreadable", REPOMD, str(error))])
    gaps = [gap for entry in repomd.data if (gap := check_data_file(root, entry))]
    primary = repomd.entry("primary")
    result = CheckResult(repomd, gaps)
    if primary is None:
        gaps.append(Gap("missing", REPOMD, "names no primary data"))
        return result
    updates = repomd.entry("primary_updates")
    lists = {primary.location} | ({updates.location} if updates is not None else set())
    if any(gap.path in lists for gap in gaps):
        return result  # a file list itself is missing: the packages cannot be checked yet
    try:
        listed = iter_listed(root, primary, updates)
        with ThreadPoolExecutor(max_workers=workers if hashes else 1) as pool:
            for found in pool.map(lambda file: (file, _check_listed(root, file, hashes)), listed):
                file, file_gaps = found
                result.files += 1
                result.bytes += file.size
                gaps.extend(file_gaps)
    except TreeError as error:
        gaps.append(Gap("unreadable", primary.location, str(error)))
    return result


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, bool]] = []  # (href, has .metadata)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        values = dict(attrs)
        if values.get("href"):
            metadata = bool(values.get("data-core-metadata") or values.get("data-dist-info-metadata"))
            self.links.append((values["href"] or "", metadata))


def page_links(page: Path) -> list[tuple[str, bool]]:
    """(href, has .metadata) of every file a project page (index.html or index.json) links to."""
    data = page.read_bytes()
    if page.name.endswith(".json"):
        document = json.loads(data)
        return [
            (file["url"], bool(file.get("core-metadata") or file.get("dist-info-metadata")))
            for file in document["files"]
        ]
    parser = _LinkParser()
    parser.feed(data.decode("utf-8", "replace"))
    parser.close()
    return parser.links


def check_pages(root: Path, pages: Iterable[str]) -> list[Gap]:
    """Every file (and .metadata) that the given project pages link to is present under root."""
    gaps: list[Gap] = []
    for relative in pages:
        page = root / relative
        if not relative.startswith("simple/") or relative.count("/") != 2 or not page.is_file():
            continue  # the root pages link to folders, not files
        try:
            links = page_links(page)
        except (ValueError, KeyError, TypeError) as error:
            gaps.append(Gap("unreadable", relative, str(error)))
            continue
        base = PurePosixPath(relative).parent
        for href, metadata in links:
            target = _resolve(base, href)
            if target is None:
                gaps.append(Gap("unreadable", relative, f"link {href!r} leaves the tree"))
                continue
            names = [target, target + ".metadata"] if metadata else [target]
            gaps.extend(
                Gap("missing", name, f"linked from {relative}") for name in names if not (root / name).is_file()
            )
    return gaps


def _resolve(base: PurePosixPath, href: str) -> str | None:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return None
    stack = list(base.parts)
    for part in unquote(parts.path).split("/"):
        if part == "..":
            if not stack:
                return None
            stack.pop()
        elif part not in ("", "."):
            stack.append(part)
    return "/".join(stack)


def project_pages(root: Path) -> Iterator[str]:
    """Every project page of the tree, relative to it."""
    simple = root / "simple"
    if not simple.is_dir():
        return
    with os.scandir(simple) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                for name in ("index.json", "index.html"):
                    yield f"simple/{entry.name}/{name}"
