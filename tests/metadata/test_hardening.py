"""Publication against hostile catalogue rows, power loss, concurrent publishes and damaged caches."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import signal
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from metadata.models import Revision
from metadata.publishing import commit as commit_module
from metadata.publishing import core_metadata
from metadata.publishing.publisher import Publisher
from metadata.publishing.render import PublishedFile, project_html, root_html_chunks
from metadata.publishing.state import PublishState
from metadata.publishing.tree import REPOMD, CollectionTree, flat_name, unflat_name
from metadata.services import collection_publish
from sync.blobstore import metadata_blob_path
from sync.models import File, Project
from sync.sample_packages import SamplePackage
from sync.services import catalogue_next_serial
from tests.metadata.conftest import tree_snapshot

pytestmark = pytest.mark.django_db


@contextmanager
def deadline(seconds: int):
    """Fail instead of hanging for ever (a publish that waits on a lock)."""

    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[dict, str]] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._current = dict(attrs)

    def handle_data(self, data):
        if self._current is not None:
            self.anchors.append((self._current, data))
            self._current = None


def anchors(data: bytes) -> list[tuple[dict, str]]:
    parser = Anchors()
    parser.feed(data.decode())
    return parser.anchors


def hostile_project(catalogue, normalized: str, *, filename: str, sha256: str, display: str | None = None) -> File:
    """A row written straight into the database, as a bug or a hostile upstream could leave it."""
    project = Project.objects.create(
        upstream=catalogue.upstream,
        name=display or normalized,
        normalized_name=normalized,
        change_serial=catalogue_next_serial(),
    )
    return File.objects.create(
        project=project,
        filename=filename,
        version="1.0",
        package_type=File.PackageType.SDIST,
        url="https://upstream.example/files/x",
        sha256=sha256,
        size=10,
        state=File.State.STORED,
    )


def hostile_file(project: Project, *, filename: str, sha256: str) -> File:
    Project.objects.filter(pk=project.pk).update(change_serial=catalogue_next_serial())
    return File.objects.create(
        project=project,
        filename=filename,
        version="2.0",
        package_type=File.PackageType.SDIST,
        url="https://upstream.example/files/x",
        sha256=sha256,
        size=10,
        state=File.State.STORED,
    )


# -- 1. project names -------------------------------------------------------------------------


def test_hostile_project_names_are_not_published(catalogue, full_collection, mirror_root, caplog):
    good = catalogue.add(SamplePackage("good", "1.0"))
    hostile = ['x"onmouseover="alert(1)', "a+b", "a/b", "../../escape", "Upper"]
    for name in hostile:
        hostile_project(catalogue, name, filename="good-1.0.tar.gz", sha256=good.sha256)
    caplog.set_level(logging.ERROR, logger="metadata.publishing")

    revision = collection_publish(collection=full_collection)

    root = mirror_root / "pub" / "full"
    assert revision.projects == 1
    assert sorted(path.name for path in (root / "simple").iterdir()) == ["good", "index.html", "index.json"]
    assert [p["name"] for p in json.loads((root / "simple/index.json").read_bytes())["projects"]] == ["good"]
    for data in tree_snapshot(mirror_root).values():
        assert b"onmouseover" not in data
    assert not list(mirror_root.parent.rglob("escape"))
    logged = caplog.text
    for name in hostile:
        assert repr(name) in logged
    # The next publish (incremental and full) stays clean too.
    catalogue.touch("good")
    collection_publish(collection=full_collection)
    collection_publish(collection=full_collection, full=True)
    assert sorted(path.name for path in (root / "simple").iterdir()) == ["good", "index.html", "index.json"]


def test_pages_escape_every_attribute_and_text():
    file = PublishedFile(
        filename='evil"<b>-1.0.tar.gz',
        version="1.0",
        package_type="sdist",
        sha256="a" * 64,
        size=1,
        upload_time="",
        requires_python='<3.9,>="2"',
        yanked=True,
        yanked_reason="bad \"quote\" 'single' <b>&amp;",
        core_metadata_sha256="",
    )
    page = project_html('x"onmouseover="alert(1)<b>', [file])
    assert b"<b>" not in page and b'"onmouseover' not in page
    [(attrs, text)] = anchors(page)
    assert text == file.filename
    assert attrs["data-requires-python"] == file.requires_python
    assert attrs["data-yanked"] == file.yanked_reason
    assert attrs["href"].endswith("#sha256=" + "a" * 64)
    assert set(attrs) == {"href", "data-requires-python", "data-yanked"}

    root = b"".join(root_html_chunks([('x"onmouseover="alert(1)', "Display<b>", 1)]))
    [(attrs, text)] = anchors(root)
    assert set(attrs) == {"href"} and attrs["href"] == 'x"onmouseover="alert(1)/'
    assert text == "Display<b>"


@pytest.mark.parametrize(
    "relative",
    ["simple/a+b/index.html", "simple/a%2Bb/index.json", "simple/x/index.html", REPOMD, "simple/%+%2F/index.html"],
)
def test_staging_names_are_reversible(relative):
    flat = flat_name(relative)
    assert "/" not in flat
    assert unflat_name(flat) == relative


# -- 2. file names and hashes -----------------------------------------------------------------


def test_hostile_file_rows_are_skipped(catalogue, full_collection, mirror_root, caplog):
    good = catalogue.add(SamplePackage("a", "1.0", kind="sdist"))
    project = good.project
    bad = [
        ("../../../../escaped.tar.gz", good.sha256),
        (".hidden-1.0.tar.gz", good.sha256),
        ("a-2.0.tar.gz", "../" * 21 + "a"),
        ("a-3.0.tar.gz", "Z" * 64),
        ("a-4.0.tar.gz", good.sha256.upper()),
        ("not-a-package.txt", good.sha256),
    ]
    for filename, sha256 in bad:
        hostile_file(project, filename=filename, sha256=sha256)
    caplog.set_level(logging.ERROR, logger="metadata.publishing")

    revision = collection_publish(collection=full_collection)

    root = mirror_root / "pub" / "full"
    files = json.loads((root / "simple/a/index.json").read_bytes())["files"]
    assert [f["filename"] for f in files] == [good.filename]
    assert revision.files == 1
    assert not list(mirror_root.parent.rglob("escaped.tar.gz"))
    assert not list(mirror_root.parent.rglob(".hidden-1.0.tar.gz"))
    for filename, _ in bad:
        assert repr(filename) in caplog.text


def test_the_tree_refuses_paths_outside_its_root(catalogue, mirror_root):
    good = catalogue.add(SamplePackage("a", "1.0"))
    tree = CollectionTree("full")
    tree.root.mkdir(parents=True)
    from sync.blobstore import blob_path

    for relative in ("packages/aa/bb/../../../../x.whl", "../x", "/etc/x", "packages/aa/bb/cc/"):
        with pytest.raises(ValueError, match="outside"):
            tree.link_data_file(blob_path(good.sha256), relative)
        with pytest.raises(ValueError, match="outside"):
            tree.remove_data_file(relative)
    assert not (mirror_root / "pub" / "x").exists()


# -- 3. durability ----------------------------------------------------------------------------


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


# -- 5. apply order ---------------------------------------------------------------------------


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

    monkeypatch.setattr(CollectionTree, "replace_page", replace_page)
    monkeypatch.setattr(Path, "unlink", unlink)
    collection_publish(collection=full_collection)

    assert order == [
        "simple/aardvark/index.html",
        "simple/aardvark/index.json",
        "simple/greeter/index.html",
        "simple/greeter/index.json",
        "simple/zeta/index.html",
        "simple/zeta/index.json",
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


# -- 6. a busy collection ---------------------------------------------------------------------


def test_a_busy_collection_is_skipped_not_waited_for(base_catalogue, full_collection, mirror_root, caplog):
    tree = CollectionTree("full")
    tree.work.mkdir(parents=True)
    with open(tree.work / "lock", "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        caplog.set_level(logging.INFO, logger="metadata")
        with deadline(20):
            assert collection_publish(collection=full_collection) is None
            out = StringIO()
            call_command("publish", "--collection", "full", stdout=out)
            assert out.getvalue().strip() == "full: busy: another publish is running; the next run picks the changes up"
            out = StringIO()
            call_command("publish", stdout=out)
            assert "full: busy: another publish is running" in out.getvalue()
        assert "busy: another publish is running; the next run picks the changes up" in caplog.text
        assert not (mirror_root / "pub" / "full" / REPOMD).exists()
    assert collection_publish(collection=full_collection).number == 1


# -- 7. the repomd timestamp ------------------------------------------------------------------


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


# -- 4. core metadata -------------------------------------------------------------------------


def test_a_wheel_whose_metadata_is_too_large_gets_none(catalogue, full_collection, mirror_root, monkeypatch, caplog):
    monkeypatch.setattr(core_metadata, "MAX_METADATA_BYTES", 64, raising=False)
    wheel = catalogue.add(SamplePackage("big", "1.0", summary="x" * 200))
    caplog.set_level(logging.WARNING, logger="metadata.publishing.core_metadata")
    collection_publish(collection=full_collection)
    [entry] = json.loads((mirror_root / "pub/full/simple/big/index.json").read_bytes())["files"]
    assert entry["core-metadata"] is False
    assert not metadata_blob_path(wheel.sha256).exists()
    assert not list((mirror_root / "pub").rglob("*.metadata"))
    assert "larger than" in caplog.text and wheel.filename in caplog.text


def test_stale_metadata_temporaries_are_cleaned_up(catalogue, full_collection, mirror_root):
    catalogue.add(SamplePackage("a", "1.0"))
    tmp = core_metadata.metadata_tmp_dir()
    tmp.mkdir(parents=True)
    old, fresh = tmp / ".metadata-crashed", tmp / ".metadata-writing"
    old.write_bytes(b"left by a crash")
    fresh.write_bytes(b"another publish is writing this")
    two_minutes_ago = time.time() - 120
    os.utime(old, (two_minutes_ago, two_minutes_ago))
    collection_publish(collection=full_collection)
    assert not old.exists() and fresh.exists()


def test_a_damaged_cached_metadata_is_extracted_again(catalogue, full_collection, mirror_root):
    wheel = catalogue.add(SamplePackage("a", "1.0", summary="intact"))
    collection_publish(collection=full_collection)
    cached = metadata_blob_path(wheel.sha256)
    good = cached.read_bytes()
    with open(cached, "r+b") as handle:  # damaged in place: the tree's hardlink too
        handle.write(b"XXXX")
    catalogue.touch("a")

    collection_publish(collection=full_collection)

    assert cached.read_bytes() == good
    root = mirror_root / "pub" / "full"
    [entry] = json.loads((root / "simple/a/index.json").read_bytes())["files"]
    published = (root / "simple/a" / entry["url"]).resolve()
    assert Path(str(published) + ".metadata").read_bytes() == good
    assert entry["core-metadata"] == {"sha256": hashlib.sha256(good).hexdigest()}
