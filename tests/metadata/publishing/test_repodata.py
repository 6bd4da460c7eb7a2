"""Repodata (metadata.publishing.repodata): primary.json.gz and primary.sqlite.gz match the catalogue; the
repomd.json timestamp."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from metadata.publishing.publisher import Publisher
from metadata.publishing.tree import REPOMD
from metadata.services import collection_publish
from sync.blobstore import blob_path
from sync.models import File
from sync.sample_packages import SamplePackage

pytestmark = pytest.mark.django_db


def tree(mirror_root: Path, slug: str = "full") -> Path:
    return mirror_root / "pub" / slug


def read_repodata(root: Path) -> tuple[dict, dict, sqlite3.Connection]:
    repomd = json.loads((root / "repodata" / "repomd.json").read_bytes())
    assert set(repomd) == {"version", "collection", "revision", "timestamp", "upstream_serial", "counts", "data"}
    assert repomd["version"] == 1
    described = {}
    for key in ("primary", "primary_db"):
        entry = repomd["data"][key]
        raw = (root / entry["location"]).read_bytes()
        assert entry["location"].startswith(f"repodata/{entry['sha256']}-")
        assert hashlib.sha256(raw).hexdigest() == entry["sha256"] and len(raw) == entry["size"]
        opened = gzip.decompress(raw)
        assert hashlib.sha256(opened).hexdigest() == entry["open_sha256"] and len(opened) == entry["open_size"]
        described[key] = opened
    database = root.parent / "primary-check.sqlite"
    database.write_bytes(described["primary_db"])
    return repomd, json.loads(described["primary"]), sqlite3.connect(database)


def test_repomd_timestamp_is_the_commit_time(base_catalogue, full_collection, mirror_root, monkeypatch):
    moments: list[datetime] = []
    real = Publisher._write_primary_db

    def write_primary_db(self):
        result = real(self)
        time.sleep(0.01)  # the data files are written well after the publish started
        moments.append(datetime.now(UTC))
        return result

    monkeypatch.setattr(Publisher, "_write_primary_db", write_primary_db)
    revision = collection_publish(collection=full_collection)
    stamp = json.loads((mirror_root / "pub/full" / REPOMD).read_bytes())["timestamp"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp)
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert moment >= moments[-1]
    assert revision.timestamp == moment


def test_repodata_matches_the_catalogue(base_catalogue, full_collection, mirror_root):
    revision = collection_publish(collection=full_collection)
    repomd, primary, db = read_repodata(tree(mirror_root))
    files = File.objects.select_related("project")
    assert repomd["collection"] == "full" and repomd["revision"] == 1
    assert repomd["counts"] == {"projects": 3, "files": files.count(), "bytes": sum(f.size for f in files)}
    assert (
        hashlib.sha256((tree(mirror_root) / "repodata/repomd.json").read_bytes()).hexdigest() == revision.repomd_sha256
    )
    assert revision.projects == 3 and revision.files == files.count()

    expected = {(f.project.normalized_name, f.version, f.filename, f.sha256, f.size) for f in files}
    rows = db.execute(
        "SELECT p.name, f.version, f.filename, f.sha256, f.size, f.location"
        " FROM files f JOIN projects p ON p.id = f.project_id"
    ).fetchall()
    assert {row[:5] for row in rows} == expected
    for row in rows:
        assert (tree(mirror_root) / row[5]).read_bytes() == blob_path(row[3]).read_bytes()
    assert set(db.execute("SELECT p.name, v.version FROM versions v JOIN projects p ON p.id = v.project_id")) == {
        (name, version) for name, version, *_ in expected
    }
    json_rows = {
        (p["name"], f["version"], f["filename"], f["sha256"], f["size"])
        for p in primary["projects"]
        for f in p["files"]
    }
    assert json_rows == expected


def test_primary_db_is_changed_in_place_and_matches_the_catalogue(base_catalogue, full_collection, mirror_root):
    collection_publish(collection=full_collection)
    root = tree(mirror_root)
    base_catalogue.add(SamplePackage("greeter", "0.4.0"))
    base_catalogue.remove_project("numbers")
    base_catalogue.add(SamplePackage("aardvark", "1.0"))
    collection_publish(collection=full_collection)
    repomd, primary, db = read_repodata(root)
    ids = dict(db.execute("SELECT name, id FROM projects"))
    assert ids["aardvark"] > ids["greeter"]  # added later: the next id, not its place by name
    from_json = [
        (p["name"], p["display_name"], p["last_serial"], [f["filename"] for f in p["files"]])
        for p in primary["projects"]
    ]
    from_db = [
        (name, display, serial, [row[0] for row in db.execute(
            "SELECT filename FROM files WHERE project_id = ? ORDER BY filename", (pid,))])
        for name, display, serial, pid in db.execute(
            "SELECT name, display_name, last_serial, id FROM projects ORDER BY name")
    ]  # fmt: skip
    assert from_db == [(n, d, s, sorted(f)) for n, d, s, f in from_json]
    assert "numbers" not in ids
    # No stale rows in free pages of the published file (secure_delete).
    raw = gzip.decompress((root / repomd["data"]["primary_db"]["location"]).read_bytes())
    assert b"numbers-" not in raw
