"""Which files a probe samples (mirrors.probing.engine.sampling): from the revision's base and updates."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from mirrors.probing.engine.sampling import PrimaryUnavailable, SamplePlanner


def _file(name: str, day: int) -> dict:
    return {"location": f"packages/aa/bb/{name}", "sha256": "0" * 64, "size": 10, "upload_time": f"2026-01-{day:02d}"}


def _write(root: Path, name: str, projects: list[dict]) -> dict:
    lines = ",\n".join(json.dumps(project) for project in projects)
    raw = gzip.compress(('{"version":1,"collection":"full","projects":[\n' + lines + "\n]}\n").encode())
    sha256 = hashlib.sha256(raw).hexdigest()
    location = f"repodata/{sha256}-{name}"
    (root / "full" / "repodata").mkdir(parents=True, exist_ok=True)
    (root / "full" / location).write_bytes(raw)
    return {"location": location, "sha256": sha256, "size": len(raw)}


@pytest.fixture
def revision(tmp_path) -> dict:
    base = _write(tmp_path, "primary.json.gz", [
        {"name": "kept", "files": [_file("kept-1.whl", 1)]},
        {"name": "changed", "files": [_file("changed-1.whl", 2)]},
        {"name": "gone", "files": [_file("gone-1.whl", 3)]},
    ])  # fmt: skip
    updates = _write(tmp_path, "primary-updates.json.gz", [
        {"name": "changed", "files": [_file("changed-1.whl", 2), _file("changed-2.whl", 9)]},
        {"name": "gone", "removed": True},
    ])  # fmt: skip
    return {"data": {"primary": base, "primary_updates": updates}}


def test_the_newest_files_come_from_the_updates_and_removed_projects_are_not_sampled(tmp_path, revision):
    planner = SamplePlanner(tmp_path, max_bytes=1000, seed=1)
    found = planner.candidates("full", revision, lambda location, max_bytes: None)
    locations = {file.location for file in found.newest + found.anywhere}
    assert found.newest[0].location == "packages/aa/bb/changed-2.whl"
    assert locations == {f"packages/aa/bb/{name}" for name in ("kept-1.whl", "changed-1.whl", "changed-2.whl")}


def test_updates_fetched_from_the_mirror_are_checked(tmp_path, revision):
    planner = SamplePlanner(None, max_bytes=1 << 20, seed=1)
    bodies = {revision["data"]["primary"]["location"]: (tmp_path / "full" / revision["data"]["primary"]["location"])}

    def fetch(location: str, max_bytes: int) -> bytes | None:
        if location in bodies:
            return bodies[location].read_bytes()
        return b"not the updates"

    with pytest.raises(PrimaryUnavailable) as raised:
        planner.candidates("full", revision, fetch)
    assert raised.value.corrupt and "primary-updates" in str(raised.value)
