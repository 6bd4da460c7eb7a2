"""The commit protocol (metadata.publishing.commit): a crash before the commit point leaves the previous revision
whole, one after it is finished by the next publish; the order of the switch and of the flushes to the disk."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest

from metadata.models import Revision
from metadata.publishing import commit as commit_module
from metadata.publishing.parts import ProjectParts
from metadata.publishing.publisher import Publisher
from metadata.publishing.state import PublishState
from metadata.publishing.tree import REPOMD, CollectionTree, flat_name
from metadata.services import collection_publish
from sync.sample_packages import SamplePackage
from tests.metadata.conftest import tree_snapshot

pytestmark = pytest.mark.django_db


class Crash(Exception):
    pass


def crash_on_call(monkeypatch, owner, name: str, call: int) -> None:
    """Make owner.name raise on its call-th call (counting from 1)."""
    original = getattr(owner, name)
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            raise Crash(f"{name} #{call}")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)


def change_catalogue(catalogue) -> None:
    catalogue.add(SamplePackage("greeter", "0.4.0"))
    catalogue.add(SamplePackage("brand-new", "1.0"))
    catalogue.remove_project("numbers")


def index_view(root: Path) -> dict[str, bytes]:
    """What a reader of the index sees: pages and repomd.json (data files only ever get added)."""
    return {k: v for k, v in tree_snapshot(root).items() if k.startswith("simple/") or k == REPOMD}


def repodata_names(root: Path) -> tuple[set[str], set[str]]:
    """Project names in the published primary.json and primary.sqlite."""
    data = json.loads((root / REPOMD).read_bytes())["data"]
    primary = json.loads(gzip.decompress((root / data["primary"]["location"]).read_bytes()))
    database = root.parent / "check.sqlite"
    database.write_bytes(gzip.decompress((root / data["primary_db"]["location"]).read_bytes()))
    db = sqlite3.connect(database)
    try:
        return {p["name"] for p in primary["projects"]}, {row[0] for row in db.execute("SELECT name FROM projects")}
    finally:
        db.close()


@pytest.mark.parametrize(
    ("owner", "name", "call"),
    [
        (CollectionTree, "link_data_file", 2),  # while linking packages
        (CollectionTree, "stage_pages", 2),  # while staging project pages
        (CollectionTree, "stage_stream", 2),  # while staging the root pages
        (Publisher, "_write_primary_db", 1),  # while writing primary.sqlite.gz (its DB is committed)
        (ProjectParts, "write_primary_gz", 1),  # while writing primary.json.gz
        (PublishState, "journal_set", 1),  # just before the commit point
        (commit_module, "sync_filesystem", 1),  # the flush before the commit point
    ],
)
def test_crash_before_commit_leaves_previous_revision_whole(
    base_catalogue, full_collection, mirror_root, monkeypatch, settings, owner, name, call
):
    collection_publish(collection=full_collection)
    root = mirror_root / "pub" / "full"
    before = tree_snapshot(root)
    change_catalogue(base_catalogue)

    with monkeypatch.context() as patch:
        crash_on_call(patch, owner, name, call)
        with pytest.raises(Crash):
            collection_publish(collection=full_collection)

    after = tree_snapshot(root)
    assert index_view(root) == {k: v for k, v in before.items() if k.startswith("simple/") or k == REPOMD}
    assert all(after[path] == data for path, data in before.items())  # every file of revision 1 is there
    full_collection.refresh_from_db()
    assert full_collection.revision == 1 and Revision.objects.count() == 1

    # The next publish throws the half-done work away and publishes revision 2 whole.
    settings.PUBLISH_GRACE_SECONDS = 0
    revision = collection_publish(collection=full_collection)
    assert revision.number == 2
    assert not (root / "simple" / "numbers").exists()
    assert "greeter-0.4.0" in (root / "simple" / "greeter" / "index.html").read_text()
    assert (root / "simple" / "brand-new" / "index.json").exists()
    work = CollectionTree("full")
    assert not work.staging.exists()
    assert not (work.work / "journal.json").exists() and not (work.work / "next.sqlite").exists()
    # primary.sqlite may have been committed before the crash: it was rebuilt from the state.
    from_json, from_db = repodata_names(root)
    assert from_json == from_db == {path.name for path in (root / "simple").iterdir() if path.is_dir()}
    assert "numbers" not in from_db and "brand-new" in from_db


def test_crash_after_commit_is_finished_by_the_next_publish(base_catalogue, full_collection, mirror_root, monkeypatch):
    collection_publish(collection=full_collection)
    root = mirror_root / "pub" / "full"
    old_repomd = (root / REPOMD).read_bytes()
    change_catalogue(base_catalogue)

    with monkeypatch.context() as patch:
        crash_on_call(patch, CollectionTree, "replace_page", 2)  # one page switched, then the crash
        with pytest.raises(Crash):
            collection_publish(collection=full_collection)
    # Mid-switch, repomd.json still describes revision 1: it is always renamed last.
    assert (root / REPOMD).read_bytes() == old_repomd
    assert Revision.objects.count() == 1

    # The next publish finishes revision 2 from the journal, then finds nothing more to do.
    assert collection_publish(collection=full_collection) is None
    assert Revision.objects.get(number=2).repomd_sha256
    repomd = json.loads((root / REPOMD).read_bytes())
    assert repomd["revision"] == 2
    assert not (root / "simple" / "numbers").exists()
    assert "greeter-0.4.0" in (root / "simple" / "greeter" / "index.html").read_text()


def test_repomd_is_renamed_last(base_catalogue, full_collection, mirror_root, monkeypatch):
    collection_publish(collection=full_collection)
    change_catalogue(base_catalogue)
    order: list[str] = []
    original = CollectionTree.replace_page

    def record(self, source, target):
        order.append(Path(target).relative_to(self.root).as_posix())
        return original(self, source, target)

    monkeypatch.setattr(CollectionTree, "replace_page", record)
    collection_publish(collection=full_collection)
    assert order[-1] == REPOMD
    assert "simple/greeter/index.html" in order and "simple/index.json" in order


def test_data_files_of_a_crashed_publish_are_pruned(catalogue, full_collection, mirror_root, monkeypatch, settings):
    catalogue.add(SamplePackage("a", "1.0"))
    collection_publish(collection=full_collection)
    orphan = catalogue.add(SamplePackage("b", "1.0"))
    with monkeypatch.context() as patch:
        crash_on_call(patch, PublishState, "journal_set", 1)
        with pytest.raises(Crash):
            collection_publish(collection=full_collection)
    folder = mirror_root / "pub/full/packages" / orphan.sha256[:2] / orphan.sha256[2:4] / orphan.sha256
    assert (folder / orphan.filename).exists()
    orphan.delete()  # gone from the catalogue before the next publish
    settings.PUBLISH_GRACE_SECONDS = 0
    Publisher(full_collection, full=False, record_revision=lambda *a: None).run()
    assert not folder.exists()


def test_primary_db_of_a_crashed_publish_is_rebuilt(base_catalogue, full_collection, mirror_root, monkeypatch):
    collection_publish(collection=full_collection)
    base_catalogue.add(SamplePackage("ghost", "1.0"))
    with monkeypatch.context() as patch:
        # primary.sqlite holds "ghost" (committed), the state does not (rolled back).
        crash_on_call(patch, Publisher, "_write_primary_db", 1)
        with pytest.raises(Crash):
            collection_publish(collection=full_collection)
    base_catalogue.remove_project("ghost")
    base_catalogue.add(SamplePackage("greeter", "0.4.0"))
    collection_publish(collection=full_collection)
    from_json, from_db = repodata_names(mirror_root / "pub" / "full")
    assert "ghost" not in from_db and from_json == from_db


def test_a_revision_is_on_disk_before_its_journal_and_repomd(base_catalogue, full_collection, mirror_root, monkeypatch):
    collection_publish(collection=full_collection)
    base_catalogue.add(SamplePackage("greeter", "0.4.0"))
    base_catalogue.add(SamplePackage("zeta", "1.0"))
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace
    real_set, real_clear = PublishState.journal_set, PublishState.journal_clear
    real_commit = PublishState.commit

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(src, dst, **kwargs):
        events.append(("replace", str(dst)))
        return real_replace(src, dst, **kwargs)

    def sync_filesystem(path):
        events.append(("syncfs", str(path)))

    def journal_set(self, record):
        events.append(("journal_set", ""))
        return real_set(self, record)

    def journal_clear(self):
        events.append(("journal_clear", ""))
        return real_clear(self)

    def commit(self):
        # The state is opened with a durable journal: its COMMIT is the commit point.
        assert self.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert self.conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        events.append(("commit", ""))
        return real_commit(self)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(commit_module, "sync_filesystem", sync_filesystem)
    monkeypatch.setattr(PublishState, "journal_set", journal_set)
    monkeypatch.setattr(PublishState, "journal_clear", journal_clear)
    monkeypatch.setattr(PublishState, "commit", commit)
    collection_publish(collection=full_collection)

    tree = CollectionTree("full")

    def first(kind: str, path: Path | str = "", start: int = 0) -> int:
        return events.index((kind, str(path)), start)

    # The journal row is committed with the state (the commit point), and every data file and
    # staged page reaches the disk before that commit...
    commit_point = first("commit", "", first("journal_set"))
    assert any(kind == "syncfs" for kind, _ in events[first("journal_set") : commit_point])
    assert not any(kind == "replace" and "/simple/" in path for kind, path in events[:commit_point])
    # repomd.json: its bytes before the rename, the folder after.
    repomd = first("replace", tree.root / REPOMD)
    staged_repomd = tree.staging / flat_name(REPOMD)
    assert commit_point < first("fsync", staged_repomd) < repomd < first("fsync", tree.root / "repodata")
    # The switched pages are on disk before the journal row that could redo them goes.
    last_page = max(i for i, (kind, path) in enumerate(events) if kind == "replace" and "/simple/" in path)
    journal_gone = first("commit", "", first("journal_clear"))
    assert commit_point < last_page < journal_gone
    assert any(kind == "syncfs" for kind, _ in events[last_page:journal_gone])


def test_pages_switch_before_the_root_then_deletions_then_repomd(
    base_catalogue, full_collection, mirror_root, monkeypatch
):
    collection_publish(collection=full_collection)
    base_catalogue.add(SamplePackage("greeter", "0.4.0"))
    base_catalogue.add(SamplePackage("zeta", "1.0"))  # sorts after "simple/index.*"
    base_catalogue.add(SamplePackage("aardvark", "1.0"))
    base_catalogue.remove_project("numbers")
    order: list[str] = []
    real_replace_page = CollectionTree.replace_page
    real_unlink = Path.unlink

    def replace_page(self, source, target):
        relative = Path(target).relative_to(self.root).as_posix()
        if relative == REPOMD:
            order.append(f"repomd (revision row: {Revision.objects.filter(number=2).exists()})")
        else:
            order.append(relative)
        return real_replace_page(self, source, target)

    def unlink(self, missing_ok=False):
        if "/pub/full/simple/" in str(self):
            order.append("delete " + str(self).split("/pub/full/", 1)[1])
        return real_unlink(self, missing_ok=missing_ok)

    real_replace_folder = CollectionTree.replace_folder

    def replace_folder(self, source, target):
        order.append(Path(target).relative_to(self.root).as_posix() + "/ (the new project's folder, whole)")
        return real_replace_folder(self, source, target)

    monkeypatch.setattr(CollectionTree, "replace_page", replace_page)
    monkeypatch.setattr(CollectionTree, "replace_folder", replace_folder)
    monkeypatch.setattr(Path, "unlink", unlink)
    collection_publish(collection=full_collection)

    assert order == [
        "simple/aardvark/ (the new project's folder, whole)",
        "simple/greeter/index.html",
        "simple/greeter/index.json",
        "simple/zeta/ (the new project's folder, whole)",
        "simple/index.html",
        "simple/index.json",
        "delete simple/numbers/index.html",
        "delete simple/numbers/index.json",
        "repomd (revision row: True)",
    ]


def test_a_crash_at_the_repomd_rename_is_finished_without_a_second_row(
    base_catalogue, full_collection, mirror_root, monkeypatch
):
    collection_publish(collection=full_collection)
    root = mirror_root / "pub" / "full"
    base_catalogue.add(SamplePackage("greeter", "0.4.0"))
    real_replace_page = CollectionTree.replace_page

    def crash_at_repomd(self, source, target):
        if Path(target) == self.root / REPOMD:
            raise RuntimeError("power loss")
        return real_replace_page(self, source, target)

    with monkeypatch.context() as patch:
        patch.setattr(CollectionTree, "replace_page", crash_at_repomd)
        with pytest.raises(RuntimeError):
            collection_publish(collection=full_collection)
    assert json.loads((root / REPOMD).read_bytes())["revision"] == 1
    assert list(Revision.objects.values_list("number", flat=True).order_by("number")) == [1, 2]

    assert collection_publish(collection=full_collection) is None
    repomd = (root / REPOMD).read_bytes()
    assert json.loads(repomd)["revision"] == 2
    assert Revision.objects.get(number=2).repomd_sha256 == hashlib.sha256(repomd).hexdigest()
    assert Revision.objects.count() == 2
