"""Which files a probe samples: read from the primary data of the mirror's own revision.

The mirror's repomd.json is trusted once its sha256 matches a revision in the origin's history, so the
primary data it names is that revision's. The origin reads it from its own published tree (repodata files
are kept for a grace period after a newer revision, so recent revisions are there); only when it is gone
is it fetched from the mirror, under the sample cap and checked against the sha256 in repomd.json.

Half the samples (rounded up) are the newest files of the revision (by upload time), which a mirror
half-way through an rsync is most likely to lack; the rest are drawn at random from the whole revision,
so that old damage is found too in time. Only files under the sample cap are candidates. The candidates
of one primary are computed once and kept (a few dozen entries per revision), so memory stays small.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import io
import json
import random
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mirrors.probing.engine.types import SampleFile

POOL = 32  # candidates kept per primary, newest and random each


class PrimaryUnavailable(Exception):
    """The revision's primary data could not be had (message for the probe's reason).

    `corrupt` is True when the mirror has the file but with the wrong bytes, False when it lacks it.
    """

    def __init__(self, message: str, *, corrupt: bool = False) -> None:
        super().__init__(message)
        self.corrupt = corrupt


@dataclass(frozen=True)
class Candidates:
    newest: tuple[SampleFile, ...]
    anywhere: tuple[SampleFile, ...]

    def pick(self, count: int, rng: random.Random) -> list[SampleFile]:
        if count <= 0:
            return []
        newest_count = (count + 1) // 2
        chosen = list(self.newest[:newest_count])
        rest = [file for file in self.anywhere if file not in chosen]
        rng.shuffle(rest)
        chosen += rest[: count - len(chosen)]
        if len(chosen) < count:  # a small revision: fill from the newest
            chosen += [file for file in self.newest if file not in chosen][: count - len(chosen)]
        return chosen


def _project_lines(stream: IO[bytes]) -> Iterator[dict]:
    """The projects of a primary.json, one a line as the publisher writes it (whole-document fallback)."""
    text = io.TextIOWrapper(stream, encoding="utf-8")
    first = text.readline()
    if not first.rstrip().endswith("["):
        document = json.loads(first + text.read())
        yield from document.get("projects", [])
        return
    for line in text:
        line = line.strip().rstrip(",")
        if line and line not in ("]}", "]"):
            yield json.loads(line)


def candidates_from(projects: Iterable[dict], *, max_bytes: int, rng: random.Random) -> Candidates:
    """The newest files and a uniform reservoir sample of all files, each at most max_bytes."""
    newest: list[tuple[str, str, SampleFile]] = []
    reservoir: list[SampleFile] = []
    seen = 0
    for project in projects:
        for entry in project.get("files", []):
            try:
                file = SampleFile(
                    str(entry["location"]),
                    str(entry["sha256"]),
                    int(entry["size"]),
                    str(entry.get("upload_time") or ""),
                )
            except (KeyError, TypeError, ValueError):
                continue
            if file.size > max_bytes or not file.location.startswith("packages/") or ".." in file.location:
                continue
            key = (file.upload_time, file.location, file)
            if len(newest) < POOL:
                heapq.heappush(newest, key)
            elif key[:2] > newest[0][:2]:
                heapq.heapreplace(newest, key)
            seen += 1
            if len(reservoir) < POOL:
                reservoir.append(file)
            else:
                slot = rng.randrange(seen)
                if slot < POOL:
                    reservoir[slot] = file
    ordered = tuple(file for _time, _location, file in sorted(newest, key=lambda item: item[:2], reverse=True))
    return Candidates(ordered, tuple(reservoir))


def merged_projects(base: Iterable[dict], updates: Iterable[dict]) -> Iterator[dict]:
    """The projects of a revision: the base's that the updates do not name, then the updates' (a line marked
    "removed" drops its project). The updates are held in memory: the origin keeps them a small share."""
    changed = {project.get("name"): project for project in updates}
    for project in base:
        if project.get("name") not in changed:
            yield project
    yield from (project for project in changed.values() if not project.get("removed"))


@dataclass(frozen=True)
class _DataRef:
    location: str
    sha256: str


def _data_ref(repomd: dict, key: str, *, required: bool) -> _DataRef | None:
    try:
        entry = repomd["data"].get(key)
        if entry is None and not required:
            return None
        return _DataRef(str(entry["location"]), str(entry["sha256"]))
    except (KeyError, TypeError, AttributeError) as error:
        raise PrimaryUnavailable(f"repomd.json names no {key} data") from error


class SamplePlanner:
    """Candidates per revision's primary data (base and updates), computed once per planner (one planner per
    probe run), thread-safe."""

    def __init__(self, pub_root: Path | None, *, max_bytes: int, seed: int | None = None) -> None:
        self.pub_root = pub_root
        self.max_bytes = max_bytes
        self.rng = random.Random(seed)  # noqa: S311 - sampling, not security
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, ...], Candidates] = {}
        self._building: dict[tuple[str, ...], threading.Lock] = {}

    def candidates(self, collection: str, repomd: dict, fetch_primary) -> Candidates:
        """The candidates of the revision whose repomd.json this is.

        fetch_primary(location, max_bytes) returns the mirror's copy of a primary data file, or None.
        """
        refs = [_data_ref(repomd, "primary", required=True), _data_ref(repomd, "primary_updates", required=False)]
        sources = [ref for ref in refs if ref is not None]
        key = tuple(ref.sha256 for ref in sources)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            base, *updates = sources
            changed = [project for ref in updates for project in self._projects(collection, ref, fetch_primary)]
            projects = merged_projects(self._projects(collection, base, fetch_primary), changed)
            found = candidates_from(projects, max_bytes=self.max_bytes, rng=self.rng)
            with self._lock:
                self._cache[key] = found
            return found

    def _projects(self, collection: str, ref: _DataRef, fetch_primary) -> Iterator[dict]:
        """The projects of one primary data file, from the origin's tree or (checked) from the mirror."""
        location = ref.location
        local = self._local(collection, location, ref.sha256)
        if local is not None:
            with gzip.open(local, "rb") as stream:
                yield from _project_lines(stream)
            return
        body = fetch_primary(location, self.max_bytes)
        if body is None:
            raise PrimaryUnavailable(f"{location} (the primary data its repomd.json names) is missing")
        if hashlib.sha256(body).hexdigest() != ref.sha256:
            raise PrimaryUnavailable(f"{location} does not have the sha256 its repomd.json gives", corrupt=True)
        try:
            with gzip.open(io.BytesIO(body), "rb") as stream:
                yield from _project_lines(stream)
        except (OSError, EOFError, ValueError) as error:
            raise PrimaryUnavailable(f"{location} is not readable gzip-compressed JSON", corrupt=True) from error

    def _local(self, collection: str, location: str, sha256: str) -> Path | None:
        if self.pub_root is None or ".." in location:
            return None
        path = self.pub_root / collection / location
        if not path.is_file():
            return None
        hasher = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                hasher.update(chunk)
        return path if hasher.hexdigest() == sha256 else None
