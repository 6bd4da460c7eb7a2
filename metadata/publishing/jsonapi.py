"""The PyPI-like JSON API of a published collection (`/pypi/<project>/json`), built from its publish state.

What bandersnatch (and other tools that read PyPI's JSON API) need to mirror a collection: `info`,
`last_serial`, `releases` {version: [file]}, `urls` (the files of the newest installable version), each
file with url, filename, digests.sha256, size, packagetype, requires_python, yanked, yanked_reason and
upload times. It is read from the collection's publish state (publish-work/<slug>/state.sqlite: what the
committed revision publishes), so it always describes files the tree holds.

- `url` is `/packages/<aa>/<bb>/<sha256>/<filename>`: the file's place relative to the collection's
  root, written with a leading slash because bandersnatch only accepts download paths that start with
  `/packages`. Point bandersnatch's `download-mirror` at the tree's base URL (docs/publishing.md).
- Files synced from a PEP 503 upstream have no upload time; the stand-in is when the origin first stored
  the file (`File.stored_at`), passed in by the caller; the Unix epoch when even that is unknown. Never
  null: bandersnatch parses every upload time.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

EPOCH_ISO = "1970-01-01T00:00:00.000000Z"

# (sha256, filename) pairs -> their stand-in upload times, ISO 8601 (see the module's docstring).
StandIns = Callable[[list[tuple[str, str]]], dict[tuple[str, str], str]]


@dataclass(frozen=True)
class ProjectApi:
    """One project's JSON API answer and the serial to send as X-PyPI-Last-Serial (the index serial)."""

    body: dict
    index_serial: int


def _version_key(version: str) -> tuple:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, Version("0"))


def _read(state_path: Path, name: str) -> tuple[str, int, list[dict], int] | None:
    connection = sqlite3.connect(f"file:{state_path}?mode=ro", uri=True, timeout=30)
    try:
        row = connection.execute("SELECT display_name, serial, line FROM projects WHERE name = ?", (name,)).fetchone()
        meta = connection.execute("SELECT value FROM meta WHERE key = 'last_serial'").fetchone()
    finally:
        connection.close()
    if row is None:
        return None
    display_name, serial, line = row
    return display_name, int(serial), json.loads(line)["files"], max(int(meta[0]) if meta else 0, int(serial))


def project_api(state_path: Path, name: str, stand_ins: StandIns) -> ProjectApi | None:
    """The JSON API answer of one project (normalized name) as the collection publishes it; None if it does not."""
    if not state_path.exists():
        return None
    found = _read(state_path, name)
    if found is None:
        return None
    display_name, serial, files, index_serial = found
    missing = [(f["sha256"], f["filename"]) for f in files if not f.get("upload_time")]
    substitutes = stand_ins(missing) if missing else {}
    releases: dict[str, list[dict]] = {}
    for file in files:
        upload_time = file.get("upload_time") or substitutes.get((file["sha256"], file["filename"])) or EPOCH_ISO
        releases.setdefault(file["version"] or "", []).append(
            {
                "filename": file["filename"],
                "url": "/" + file["location"],
                "digests": {"sha256": file["sha256"]},
                "size": file["size"],
                "packagetype": file["package_type"],
                "requires_python": file.get("requires_python"),
                "yanked": bool(file.get("yanked")),
                "yanked_reason": file.get("yanked_reason"),
                "upload_time": upload_time[:19],  # PyPI's form: seconds, no zone
                "upload_time_iso_8601": upload_time,
            }
        )
    ordered = sorted(releases, key=_version_key)
    installable = [v for v in ordered if any(not f["yanked"] for f in releases[v])]
    latest = (installable or ordered or [""])[-1]
    latest_files = releases.get(latest, [])
    body = {
        "info": {
            "name": display_name,
            "version": latest,
            "requires_python": next((f["requires_python"] for f in latest_files if f["requires_python"]), None),
            "yanked": bool(latest_files) and all(f["yanked"] for f in latest_files),
        },
        "last_serial": serial,
        "releases": {version: releases[version] for version in ordered},
        "urls": latest_files,
        "vulnerabilities": [],
    }
    return ProjectApi(body=body, index_serial=index_serial)
