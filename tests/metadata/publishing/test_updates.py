"""The base and the updates since it (metadata.publishing.updates): between rebases a publish leaves the base's
files as they are and writes only the projects changed since; base + updates always read as the catalogue."""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from metadata.publishing import updates
from metadata.publishing.publisher import Publisher
from metadata.publishing.state import PublishState
from metadata.publishing.tree import CollectionTree
from metadata.services import collection_publish
from sync.sample_packages import SamplePackage

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_rebase(monkeypatch):
    """Updates never outgrow their share: only a missing base or a full publish rebases."""
    monkeypatch.setattr(updates, "UPDATES_SHARE", 0)


def root_of(mirror_root: Path) -> Path:
    return mirror_root / "pub" / "full"


def repomd_of(root: Path) -> dict:
    return json.loads((root / "repodata" / "repomd.json").read_bytes())


def opened(root: Path, entry: dict) -> bytes:
    raw = (root / entry["location"]).read_bytes()
    assert entry["location"].startswith(f"repodata/{entry['sha256']}-")
    assert hashlib.sha256(raw).hexdigest() == entry["sha256"] and len(raw) == entry["size"]
    data = gzip.decompress(raw)
    assert hashlib.sha256(data).hexdigest() == entry["open_sha256"] and len(data) == entry["open_size"]
    return data


def projects_of(root: Path, entry: dict) -> list[dict]:
    document = json.loads(opened(root, entry))
    assert document["version"] == 1 and document["collection"] == "full"
    return document["projects"]


def merged(root: Path, repomd: dict) -> dict[str, dict]:
    """What a reader makes of a revision: the base, less what the updates name, plus the updates."""
    data = repomd["data"]
    changed = {project["name"]: project for project in projects_of(root, data["primary_updates"])}
    current = {
        project["name"]: project for project in projects_of(root, data["primary"]) if project["name"] not in changed
    }
    current.update({name: project for name, project in changed.items() if not project.get("removed")})
    return current


def change(catalogue) -> None:
    catalogue.add(SamplePackage("greeter", "0.4.0"))
    catalogue.remove_file("numbers-2.1.0.tar.gz")
    catalogue.add(SamplePackage("zeta", "1.0"))
    catalogue.remove_project("Hello_World")


def test_between_rebases_the_base_stays_and_the_updates_hold_the_changes(
    no_rebase, base_catalogue, full_collection, mirror_root
):
    collection_publish(collection=full_collection)
    root = root_of(mirror_root)
    first = repomd_of(root)
    assert projects_of(root, first["data"]["primary_updates"]) == []  # a fresh base has no updates
    change(base_catalogue)
    collection_publish(collection=full_collection)
    second = repomd_of(root)
    for key in ("primary", "primary_db"):  # the base is the same file, so a mirror copies only the updates
        assert second["data"][key] == first["data"][key]
    assert second["data"]["primary_updates"]["base"] == first["data"]["primary"]["sha256"]
    assert second["data"]["primary_db_updates"]["base"] == first["data"]["primary_db"]["sha256"]
    lines = projects_of(root, second["data"]["primary_updates"])
    assert [line["name"] for line in lines] == ["greeter", "hello-world", "numbers", "zeta"]
    assert lines[1] == {"name": "hello-world", "removed": True}
    assert "numbers-2.1.0.tar.gz" not in {file["filename"] for file in lines[2]["files"]}
    current = merged(root, second)
    assert second["counts"] == {  # kept up to date by each publish's changes, not counted again
        "projects": len(current),
        "files": sum(len(project["files"]) for project in current.values()),
        "bytes": sum(file["size"] for project in current.values() for file in project["files"]),
    }

    # A full publish rebases: a new base equal to base + updates, and empty updates.
    collection_publish(collection=full_collection, full=True)
    third = repomd_of(root)
    assert third["data"]["primary"] != first["data"]["primary"]
    assert projects_of(root, third["data"]["primary_updates"]) == []
    assert {p["name"]: p for p in projects_of(root, third["data"]["primary"])} == merged(root, second)


def test_the_updates_db_holds_the_changed_projects_and_the_removed_names(
    no_rebase, base_catalogue, full_collection, mirror_root, tmp_path
):
    collection_publish(collection=full_collection)
    change(base_catalogue)
    collection_publish(collection=full_collection)
    root = root_of(mirror_root)
    repomd = repomd_of(root)
    database = tmp_path / "updates.sqlite"
    database.write_bytes(opened(root, repomd["data"]["primary_db_updates"]))
    conn = sqlite3.connect(database)
    assert dict(conn.execute("SELECT key, value FROM meta")) == {
        "version": "1",
        "collection": "full",
        "base": repomd["data"]["primary_db"]["sha256"],
    }
    assert [row[0] for row in conn.execute("SELECT name FROM projects ORDER BY id")] == ["greeter", "numbers", "zeta"]
    assert [row[0] for row in conn.execute("SELECT name FROM removed")] == ["hello-world"]
    json_files = {
        (project["name"], file["filename"], file["sha256"], file["location"])
        for project in merged(root, repomd).values()
        if project["name"] != "hello-world" and project["name"] in ("greeter", "numbers", "zeta")
        for file in project["files"]
    }
    db_files = set(
        conn.execute(
            "SELECT p.name, f.filename, f.sha256, f.location FROM files f JOIN projects p ON p.id = f.project_id"
        )
    )
    assert db_files == json_files


def test_the_updates_accumulate_until_a_rebase(no_rebase, base_catalogue, full_collection, mirror_root, monkeypatch):
    collection_publish(collection=full_collection)
    root = root_of(mirror_root)
    base_catalogue.add(SamplePackage("greeter", "0.4.0"))
    collection_publish(collection=full_collection)
    second = repomd_of(root)
    base_catalogue.add(SamplePackage("zeta", "1.0"))
    collection_publish(collection=full_collection)
    third = repomd_of(root)
    assert [p["name"] for p in projects_of(root, third["data"]["primary_updates"])] == ["greeter", "zeta"]
    assert third["data"]["primary"] == second["data"]["primary"]
    # The previous updates are garbage now (kept for the grace period); the base is still referenced.
    state = PublishState(CollectionTree("full").state_path)
    try:
        assert not state.referenced(second["data"]["primary_updates"]["location"])
        assert state.referenced(third["data"]["primary"]["location"])
        garbage = {row[0] for row in state.conn.execute("SELECT path FROM garbage")}
        assert second["data"]["primary_updates"]["location"] in garbage
    finally:
        state.close()

    # Once the updates name more than 1/UPDATES_SHARE of the projects, the next publish rebases.
    monkeypatch.setattr(updates, "UPDATES_SHARE", 2)  # 2 updated x 2 > 4 projects: not yet; 3 x 2 > 4: due
    base_catalogue.add(SamplePackage("numbers", "2.2.0"))
    publisher = Publisher(full_collection, full=False, record_revision=lambda collection, record: record)
    publisher.run()
    assert publisher.stats["rebased"] is True
    fourth = repomd_of(root)
    assert fourth["data"]["primary"] != third["data"]["primary"]
    assert projects_of(root, fourth["data"]["primary_updates"]) == []
    assert {p["name"] for p in projects_of(root, fourth["data"]["primary"])} == {
        "greeter",
        "hello-world",
        "numbers",
        "zeta",
    }


def test_nothing_changed_makes_no_revision_between_rebases(no_rebase, base_catalogue, full_collection, mirror_root):
    collection_publish(collection=full_collection)
    base_catalogue.add(SamplePackage("greeter", "0.4.0"))
    assert collection_publish(collection=full_collection) is not None
    assert collection_publish(collection=full_collection) is None


def test_a_lost_base_file_makes_the_next_publish_rebase(no_rebase, base_catalogue, full_collection, mirror_root):
    collection_publish(collection=full_collection)
    root = root_of(mirror_root)
    first = repomd_of(root)
    (root / first["data"]["primary"]["location"]).unlink()
    base_catalogue.add(SamplePackage("greeter", "0.4.0"))
    collection_publish(collection=full_collection)
    second = repomd_of(root)
    assert (root / second["data"]["primary"]["location"]).is_file()
    assert projects_of(root, second["data"]["primary_updates"]) == []
    assert "greeter" in {p["name"] for p in projects_of(root, second["data"]["primary"])}
