"""Publication of collections (metadata.publishing.publisher through metadata.services): the tree against PEP
503/691/658/700, repodata, incremental and full runs, filters; hostile project names."""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import logging
import os
import shutil
import sqlite3
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from packaging.utils import canonicalize_name

from metadata.models import Collection, Revision
from metadata.publishing.render import API_VERSION
from metadata.services import collection_publish, collections_publish_all
from metadata.tasks import publish_task
from sync.blobstore import blob_path, metadata_blob_path
from sync.models import File, Project, Upstream
from sync.sample_packages import SamplePackage
from tests.factories import hostile_project
from tests.metadata.conftest import make_collection, tree_snapshot
from tests.metadata.publishing.pages import parse

pytestmark = pytest.mark.django_db


def tree(mirror_root: Path, slug: str = "full") -> Path:
    return mirror_root / "pub" / slug


def primary_db_content(repomd: dict, root: Path) -> tuple[list, list]:
    """The rows of a published primary.sqlite, without its ids."""
    database = root.parent / "primary-content.sqlite"
    database.write_bytes(gzip.decompress((root / repomd["data"]["primary_db"]["location"]).read_bytes()))
    db = sqlite3.connect(database)
    try:
        projects = db.execute("SELECT name, display_name, last_serial FROM projects ORDER BY name").fetchall()
        files = db.execute(
            "SELECT p.name, f.filename, f.version, f.package_type, f.sha256, f.size, f.upload_time,"
            " f.requires_python, f.yanked, f.yanked_reason, f.core_metadata_sha256, f.location"
            " FROM files f JOIN projects p ON p.id = f.project_id ORDER BY p.name, f.filename"
        ).fetchall()
        return projects, files
    finally:
        db.close()
        database.unlink()


def test_pages_follow_pep_503_691_658_700(base_catalogue, full_collection, mirror_root):
    revision = collection_publish(collection=full_collection)
    assert revision is not None and revision.number == 1
    root = tree(mirror_root)

    # Root: normalized names in links, display names as text; JSON with api-version and serial.
    index = parse(root / "simple" / "index.html")
    assert [(a["href"], text) for a, text in index.anchors] == [
        ("greeter/", "greeter"),
        ("hello-world/", "Hello_World"),
        ("numbers/", "numbers"),
    ]
    assert index.meta["pypi:repository-version"] == API_VERSION
    root_json = json.loads((root / "simple" / "index.json").read_bytes())
    assert root_json["meta"]["api-version"] == "1.1"
    assert isinstance(root_json["meta"]["_last-serial"], int)
    assert [p["name"] for p in root_json["projects"]] == ["greeter", "Hello_World", "numbers"]
    for name in ("greeter", "hello-world", "numbers"):
        assert canonicalize_name(name) == name
        assert (root / "simple" / name / "index.html").exists()

    # Project page, HTML: relative links to existing files with #sha256, PEP 658 attributes.
    stored = {f.filename: f for f in File.objects.all()}
    page = root / "simple" / "greeter"
    anchors = parse(page / "index.html").anchors
    assert {text for _, text in anchors} == {"greeter-0.3.0-py3-none-any.whl", "greeter-0.3.0.tar.gz"}
    for attrs, text in anchors:
        href, _, fragment = attrs["href"].partition("#")
        assert not href.startswith(("/", "http"))
        target = (page / href).resolve()
        assert target.read_bytes() == blob_path(stored[text].sha256).read_bytes()
        assert fragment == f"sha256={stored[text].sha256}"
        assert attrs["data-requires-python"] == ">=3.8"
        if text.endswith(".whl"):
            metadata = Path(str(target) + ".metadata").read_bytes()
            assert b"Requires-Dist: hello-world>=1.0" in metadata
            assert attrs["data-core-metadata"] == f"sha256={hashlib.sha256(metadata).hexdigest()}"
            assert attrs["data-dist-info-metadata"] == attrs["data-core-metadata"]
            assert metadata_blob_path(stored[text].sha256).read_bytes() == metadata  # cached in the store
        else:
            assert "data-core-metadata" not in attrs

    # Project page, JSON.
    data = json.loads((page / "index.json").read_bytes())
    assert data["meta"] == {
        "api-version": "1.1",
        "_last-serial": Project.objects.get(normalized_name="greeter").change_serial,
    }
    assert data["name"] == "greeter"
    assert data["versions"] == ["0.3.0"]
    for entry in data["files"]:
        file = stored[entry["filename"]]
        assert entry["hashes"] == {"sha256": file.sha256}
        assert entry["size"] == file.size
        assert entry["upload-time"] == "2024-01-02T03:04:05.000000Z"
        assert entry["requires-python"] == ">=3.8"
        assert entry["yanked"] is False
        assert (page / entry["url"]).resolve().read_bytes() == blob_path(file.sha256).read_bytes()
        if entry["filename"].endswith(".whl"):
            assert set(entry["core-metadata"]) == {"sha256"}
        else:
            assert entry["core-metadata"] is False


def test_packages_are_hardlinks_into_the_store(base_catalogue, full_collection, mirror_root):
    collection_publish(collection=full_collection)
    for file in File.objects.all():
        published = tree(mirror_root) / "packages" / file.sha256[:2] / file.sha256[2:4] / file.sha256 / file.filename
        assert os.path.samefile(published, blob_path(file.sha256))


def test_copy_when_hardlinks_cross_file_systems(base_catalogue, full_collection, mirror_root, monkeypatch):
    def no_link(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    collection_publish(collection=full_collection)
    file = File.objects.first()
    published = tree(mirror_root) / "packages" / file.sha256[:2] / file.sha256[2:4] / file.sha256 / file.filename
    assert published.read_bytes() == blob_path(file.sha256).read_bytes()
    assert not os.path.samefile(published, blob_path(file.sha256))


def test_a_blob_replaced_by_repair_is_linked_again(base_catalogue, full_collection, mirror_root):
    collection_publish(collection=full_collection)
    file = File.objects.filter(filename__endswith=".whl").first()
    published = tree(mirror_root) / "packages" / file.sha256[:2] / file.sha256[2:4] / file.sha256 / file.filename
    good = blob_path(file.sha256).read_bytes()
    # A bit flipped in place damages the store and every tree that hardlinks it.
    with open(blob_path(file.sha256), "r+b") as handle:
        handle.seek(10)
        handle.write(bytes([good[10] ^ 0xFF]))
    assert published.read_bytes() != good
    # verify --repair writes a fresh blob (a new inode) and marks the project changed.
    repaired = blob_path(file.sha256).with_name("repaired")
    repaired.write_bytes(good)
    os.replace(repaired, blob_path(file.sha256))
    base_catalogue.touch(file.project.name)

    collection_publish(collection=full_collection)

    assert published.read_bytes() == good
    assert os.path.samefile(published, blob_path(file.sha256))


def test_yanked_files(catalogue, full_collection, mirror_root):
    catalogue.add(SamplePackage("old", "1.0"), yanked=True, yanked_reason="broken <build>")
    catalogue.add(SamplePackage("old", "1.1"), yanked=True, yanked_reason="")
    collection_publish(collection=full_collection)
    anchors = parse(tree(mirror_root) / "simple" / "old" / "index.html").anchors
    assert [a["data-yanked"] for a, _ in anchors] == ["broken <build>", ""]
    data = json.loads((tree(mirror_root) / "simple" / "old" / "index.json").read_bytes())
    assert [f["yanked"] for f in data["files"]] == ["broken <build>", True]


def test_only_stored_files_are_published(catalogue, full_collection, mirror_root):
    catalogue.add(SamplePackage("a", "1.0"))
    catalogue.add(SamplePackage("a", "2.0"), state=File.State.PENDING)
    catalogue.add(SamplePackage("b", "1.0"), state=File.State.FAILED)
    collection_publish(collection=full_collection)
    data = json.loads((tree(mirror_root) / "simple" / "index.json").read_bytes())
    assert [p["name"] for p in data["projects"]] == ["a"]
    assert [f["filename"] for f in json.loads((tree(mirror_root) / "simple/a/index.json").read_bytes())["files"]] == [
        "a-1.0-py3-none-any.whl"
    ]


def test_missing_blob_is_skipped_not_linked(catalogue, full_collection, mirror_root):
    good = catalogue.add(SamplePackage("a", "1.0"))
    lost = catalogue.add(SamplePackage("a", "2.0"))
    blob_path(lost.sha256).unlink()
    collection_publish(collection=full_collection)
    files = json.loads((tree(mirror_root) / "simple/a/index.json").read_bytes())["files"]
    assert [f["filename"] for f in files] == [good.filename]


def test_incremental_rewrites_only_changed_projects(base_catalogue, full_collection, mirror_root):
    collection_publish(collection=full_collection)
    root = tree(mirror_root)
    before = {p: p.stat().st_ino for p in root.glob("simple/*/index.*")}
    base_catalogue.add(SamplePackage("greeter", "0.4.0"))
    revision = collection_publish(collection=full_collection)
    assert revision.number == 2 and not revision.full
    after = {p: p.stat().st_ino for p in root.glob("simple/*/index.*")}
    changed = {p.parent.name for p in before if before[p] != after[p]}
    assert changed == {"greeter"}
    assert "greeter-0.4.0-py3-none-any.whl" in (root / "simple/greeter/index.html").read_text()
    assert collection_publish(collection=full_collection) is None  # nothing new


def test_incremental_equals_full_and_full_is_deterministic(
    base_catalogue, full_collection, mirror_root, settings, tmp_path
):
    collection_publish(collection=full_collection)
    base_catalogue.add(SamplePackage("greeter", "0.4.0"))
    base_catalogue.remove_file("numbers-2.1.0.tar.gz")
    base_catalogue.add(SamplePackage("zeta", "1.0"))
    collection_publish(collection=full_collection)
    pages = {k: v for k, v in tree_snapshot(tree(mirror_root)).items() if k.startswith("simple/")}
    incremental_repomd = json.loads((tree(mirror_root) / "repodata/repomd.json").read_bytes())
    # A full republish of the same catalogue changes nothing.
    assert collection_publish(collection=full_collection, full=True) is None
    # A fresh publish elsewhere gives the same pages and data files, byte for byte.
    settings.MIRROR_ROOT = tmp_path / "elsewhere"
    shutil.copytree(mirror_root / "store", settings.MIRROR_ROOT / "store")
    Collection.objects.filter(pk=full_collection.pk).update(revision=0, published_serial=0)
    Revision.objects.all().delete()
    full_collection.refresh_from_db()
    collection_publish(collection=full_collection, full=True)
    fresh = tree_snapshot(tree(settings.MIRROR_ROOT))
    assert {k: v for k, v in fresh.items() if k.startswith("simple/")} == pages
    fresh_repomd = json.loads(fresh["repodata/repomd.json"])
    assert fresh_repomd["data"]["primary"] == incremental_repomd["data"]["primary"]
    # primary.sqlite is changed in place by incremental publishes: the same rows, not the same bytes.
    assert primary_db_content(fresh_repomd, tree(settings.MIRROR_ROOT)) == primary_db_content(
        incremental_repomd, tree(mirror_root)
    )


def test_tombstones_and_lost_files_leave_the_tree(base_catalogue, full_collection, mirror_root):
    collection_publish(collection=full_collection)
    root = tree(mirror_root)
    removed_sdist = File.objects.get(filename="numbers-2.1.0.tar.gz")
    base_catalogue.remove_project("greeter")
    base_catalogue.remove_file("numbers-2.1.0.tar.gz")
    collection_publish(collection=full_collection)
    assert not (root / "simple" / "greeter").exists()
    assert "greeter" not in (root / "simple" / "index.html").read_text()
    assert "numbers-2.1.0.tar.gz" not in (root / "simple" / "numbers" / "index.html").read_text()
    # Data files stay for the grace period (mirrors in the middle of an rsync still find them).
    sdist = root / "packages" / removed_sdist.sha256[:2] / removed_sdist.sha256[2:4] / removed_sdist.sha256
    assert (sdist / removed_sdist.filename).exists()


def test_prune_after_grace(base_catalogue, full_collection, mirror_root, settings):
    first = collection_publish(collection=full_collection)
    root = tree(mirror_root)
    first_repomd = json.loads((root / "repodata/repomd.json").read_bytes())
    gone = File.objects.get(filename="numbers-2.1.0.tar.gz")
    gone_path = root / "packages" / gone.sha256[:2] / gone.sha256[2:4] / gone.sha256 / gone.filename
    base_catalogue.remove_file(gone.filename)
    settings.PUBLISH_GRACE_SECONDS = 3600
    collection_publish(collection=full_collection)
    assert gone_path.exists()
    assert (root / first_repomd["data"]["primary"]["location"]).exists()
    settings.PUBLISH_GRACE_SECONDS = 0
    assert collection_publish(collection=full_collection) is None  # prunes even when nothing changed
    assert not gone_path.exists() and not gone_path.parent.exists()
    assert not (root / first_repomd["data"]["primary"]["location"]).exists()
    current = json.loads((root / "repodata/repomd.json").read_bytes())
    assert (root / current["data"]["primary"]["location"]).exists()
    assert first.number == 1


def test_a_file_that_comes_back_is_not_pruned(catalogue, full_collection, mirror_root, settings):
    settings.PUBLISH_GRACE_SECONDS = 0
    package = SamplePackage("a", "1.0")
    file = catalogue.add(package)
    catalogue.add(SamplePackage("b", "1.0"))
    collection_publish(collection=full_collection)
    catalogue.remove_file(package.filename)
    catalogue.add(package)
    collection_publish(collection=full_collection)
    path = tree(mirror_root) / "packages" / file.sha256[:2] / file.sha256[2:4] / file.sha256 / file.filename
    assert path.exists()


def test_filtered_collection(base_catalogue, mirror_root):
    collection = make_collection(
        "linux-wheels",
        package_types=["bdist_wheel"],
        platform_tags=["manylinux*_x86_64", "any"],
        include_prereleases=False,
        exclude_projects=["greet*"],
    )
    revision = collection_publish(collection=collection)
    root = tree(mirror_root, "linux-wheels")
    assert [p["name"] for p in json.loads((root / "simple/index.json").read_bytes())["projects"]] == [
        "Hello_World",
        "numbers",
    ]
    files = {
        f["filename"]
        for name in ("hello-world", "numbers")
        for f in json.loads((root / f"simple/{name}/index.json").read_bytes())["files"]
    }
    assert files == {
        "hello_world-1.0.0-py3-none-any.whl",
        "hello_world-1.1.0-py3-none-any.whl",
        "numbers-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    }
    assert revision.files == 3
    assert not (root / "simple" / "greeter").exists()


def test_changing_filters_republishes_in_full(base_catalogue, mirror_root):
    collection = make_collection("subset", include_projects=["numbers"])
    collection_publish(collection=collection)
    collection.include_projects = ["greeter"]
    collection.save()
    revision = collection_publish(collection=collection)
    assert revision.full
    root = tree(mirror_root, "subset")
    assert sorted(p.name for p in (root / "simple").iterdir() if p.is_dir()) == ["greeter"]


def test_upstream_restriction_and_lowest_upstream_wins(catalogue, upstream, mirror_root):
    second = Upstream.objects.create(name="second", url="https://second.upstream.example/simple/")
    catalogue.add(SamplePackage("shared", "1.0"))
    catalogue.add(SamplePackage("shared", "9.0"), upstream=second)
    catalogue.add(SamplePackage("only-second", "1.0"), upstream=second)
    everything = make_collection("everything")
    collection_publish(collection=everything)
    shared = json.loads((tree(mirror_root, "everything") / "simple/shared/index.json").read_bytes())
    assert shared["versions"] == ["1.0"]  # the first upstream (lowest id) wins
    # When the winner becomes a tombstone, the other upstream's project takes over.
    catalogue.remove_project("shared")
    Project.objects.filter(upstream=second).update(removed=False)
    collection_publish(collection=everything)
    shared = json.loads((tree(mirror_root, "everything") / "simple/shared/index.json").read_bytes())
    assert shared["versions"] == ["9.0"]
    restricted = make_collection("second-only", upstream=second)
    collection_publish(collection=restricted)
    names = [
        p["name"] for p in json.loads((tree(mirror_root, "second-only") / "simple/index.json").read_bytes())["projects"]
    ]
    assert names == ["only-second", "shared"]


def test_invalid_filters_are_refused_and_nothing_is_written(base_catalogue, mirror_root):
    collection = make_collection("bad", python_versions=["three"])
    with pytest.raises(ValueError, match="'bad' has invalid filters: python_versions"):
        collection_publish(collection=collection)
    assert not tree(mirror_root, "bad").exists()


def test_publish_command_and_task(base_catalogue, full_collection, mirror_root):
    make_collection("sdists", package_types=["sdist"])
    out = StringIO()
    call_command("publish", stdout=out)
    assert "full: revision 1" in out.getvalue() and "sdists: revision 1" in out.getvalue()
    out = StringIO()
    call_command("publish", "--collection", "sdists", "--full", stdout=out)
    assert out.getvalue().strip().startswith("sdists: every page and data file checked in full (")
    assert out.getvalue().strip().endswith("the tree is revision 1 as published, no new revision")
    with pytest.raises(CommandError, match="no collection 'nope'"):
        call_command("publish", "--collection", "nope")
    base_catalogue.add(SamplePackage("new", "1.0", kind="sdist"))
    assert publish_task("sdists") == [2]
    assert publish_task() == [2]  # full gets its revision 2; sdists has nothing new
    assert publish_task() == []


def test_publish_all_reports_failures_after_trying_every_collection(base_catalogue, full_collection, mirror_root):
    from metadata.services import PublishError

    make_collection("broken", package_types=["wheel"])
    with pytest.raises(PublishError, match="broken"):
        collections_publish_all()
    assert (tree(mirror_root) / "repodata/repomd.json").exists()


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
