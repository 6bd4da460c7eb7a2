"""Synthetic published trees for the probe tests: an origin history of N revisions and mirror copies of any one.

Each revision adds one package file; its primary.json.gz lists every file so far (the publisher's layout:
one project a line), and its repomd.json names that primary. The origin's tree keeps every revision's
primary (as the grace period does) and has the newest repomd.json.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mirrors.probing.engine.types import RevisionBook, RevisionInfo


@dataclass
class Revision:
    number: int
    timestamp: datetime
    files: dict[str, bytes]  # every path of the tree (packages/…, repodata/…) → bytes
    repomd: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.repomd).hexdigest()

    def packages(self) -> list[str]:
        return sorted(path for path in self.files if path.startswith("packages/"))


@dataclass
class History:
    slug: str
    revisions: list[Revision] = field(default_factory=list)

    def book(self) -> RevisionBook:
        return RevisionBook(self.slug, tuple(RevisionInfo(r.number, r.sha256, r.timestamp) for r in self.revisions))

    def at(self, number: int) -> Revision:
        return next(revision for revision in self.revisions if revision.number == number)

    def write_origin(self, pub_root: Path) -> Path:
        """The origin's published tree: the newest revision, with every revision's repodata files kept."""
        root = pub_root / self.slug
        for revision in self.revisions:
            for path, body in revision.files.items():
                if path != "repodata/repomd.json":
                    _write(root / path, body)
        _write(root / "repodata/repomd.json", self.revisions[-1].repomd)
        return root

    def write_mirror(self, directory: Path, number: int) -> Path:
        """A complete copy of one revision (as a finished rsync leaves it)."""
        if directory.exists():
            shutil.rmtree(directory)
        for path, body in self.at(number).files.items():
            _write(directory / path, body)
        return directory


def _write(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def package_bytes(number: int, size: int = 2000) -> bytes:
    seed = f"package of revision {number}\n".encode()
    return (seed * (size // len(seed) + 1))[:size]


def make_history(
    slug: str, count: int, *, start: datetime | None = None, step: timedelta = timedelta(hours=1)
) -> History:
    """count revisions, one an hour (by default) ending about now."""
    start = start or datetime.now(UTC) - step * count
    history = History(slug)
    entries: list[dict] = []
    for number in range(1, count + 1):
        body = package_bytes(number)
        sha = hashlib.sha256(body).hexdigest()
        filename = f"demo_{number}-1.0-py3-none-any.whl"
        location = f"packages/{sha[:2]}/{sha[2:4]}/{sha}/{filename}"
        timestamp = start + step * number
        entries.append(
            {
                "name": f"demo-{number}",
                "display_name": f"demo-{number}",
                "last_serial": number,
                "files": [
                    {
                        "filename": filename,
                        "version": "1.0",
                        "package_type": "bdist_wheel",
                        "sha256": sha,
                        "size": len(body),
                        "upload_time": timestamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        "location": location,
                    }
                ],
            }
        )
        lines = ",\n".join(json.dumps(entry, separators=(",", ":")) for entry in entries)
        primary_json = f'{{"version":1,"collection":"{slug}","projects":[\n{lines}\n]}}\n'.encode()
        primary = gzip.compress(primary_json, mtime=0)
        primary_sha = hashlib.sha256(primary).hexdigest()
        primary_location = f"repodata/{primary_sha}-primary.json.gz"
        repomd = json.dumps(
            {
                "version": 1,
                "collection": slug,
                "revision": number,
                "timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "data": {"primary": {"location": primary_location, "sha256": primary_sha, "size": len(primary)}},
            },
            indent=2,
        ).encode()
        files = dict(history.revisions[-1].files) if history.revisions else {}
        files = {path: data for path, data in files.items() if not path.startswith("repodata/")}
        files[location] = body
        files[primary_location] = primary
        files["repodata/repomd.json"] = repomd
        history.revisions.append(Revision(number, timestamp, files, repomd))
    return history
