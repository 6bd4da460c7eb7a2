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


class SamplePlanner:
    """Candidates per primary sha256, computed once per planner (one planner per probe run), thread-safe."""

    def __init__(self, pub_root: Path | None, *, max_bytes: int, seed: int | None = None) -> None:
        self.pub_root = pub_root
        self.max_bytes = max_bytes
        self.rng = random.Random(seed)  # noqa: S311 - sampling, not security
        self._lock = threading.Lock()
        self._cache: dict[str, Candidates] = {}
        self._building: dict[str, threading.Lock] = {}

    def candidates(self, collection: str, repomd: dict, fetch_primary) -> Candidates:
        """The candidates of the revision whose repomd.json this is.

        fetch_primary(location, max_bytes) returns the mirror's copy of the primary data, or None.
        """
        try:
            primary = repomd["data"]["primary"]
            location, sha256 = str(primary["location"]), str(primary["sha256"])
        except (KeyError, TypeError) as error:
            raise PrimaryUnavailable("repomd.json names no primary data") from error
        with self._lock:
            if sha256 in self._cache:
                return self._cache[sha256]
            building = self._building.setdefault(sha256, threading.Lock())
        with building:
            with self._lock:
                if sha256 in self._cache:
                    return self._cache[sha256]
            found = self._build(collection, location, sha256, fetch_primary)
            with self._lock:
                self._cache[sha256] = found
            return found

    def _build(self, collection: str, location: str, sha256: str, fetch_primary) -> Candidates:
        local = self._local(collection, location, sha256)
        if local is not None:
            with gzip.open(local, "rb") as stream:
                return candidates_from(_project_lines(stream), max_bytes=self.max_bytes, rng=self.rng)
        body = fetch_primary(location, self.max_bytes)
        if body is None:
            raise PrimaryUnavailable(f"{location} (the primary data its repomd.json names) is missing")
        if hashlib.sha256(body).hexdigest() != sha256:
            raise PrimaryUnavailable(f"{location} does not have the sha256 its repomd.json gives", corrupt=True)
        try:
            with gzip.open(io.BytesIO(body), "rb") as stream:
                return candidates_from(_project_lines(stream), max_bytes=self.max_bytes, rng=self.rng)
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
