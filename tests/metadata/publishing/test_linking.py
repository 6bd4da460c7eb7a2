"""Linking files into the tree (metadata.publishing.linking): hostile rows are skipped, a damaged .metadata
cache is extracted again."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pytest

from metadata.services import collection_publish
from sync.blobstore import metadata_blob_path
from sync.sample_packages import SamplePackage
from tests.factories import hostile_file

pytestmark = pytest.mark.django_db


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
        ("sub/a-5.0.tar.gz", good.sha256),
        ("a\\a-6.0.tar.gz", good.sha256),
        ("a-7.0\n.tar.gz", good.sha256),
        ("a-8.0" + "é" * 125 + ".tar.gz", good.sha256),  # 137 characters (the column holds 255), 262 bytes
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


LINK_LIMIT = 4  # links per inode in these tests (ext4: 65,000)


@pytest.fixture
def link_limit(monkeypatch):
    """os.link fails with EMLINK once the source inode has LINK_LIMIT links, as the file system would."""
    import errno
    import os

    real_link = os.link

    def link(src, dst, *args, **kwargs):
        if os.path.lexists(dst):  # Linux looks the new name up first
            raise FileExistsError(errno.EEXIST, "File exists", str(dst))
        if os.stat(src).st_nlink >= LINK_LIMIT:
            raise OSError(errno.EMLINK, "Too many links", str(src))
        return real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "link", link)


def _published_files(root: Path) -> list[Path]:
    return sorted(path for path in (root / "packages").rglob("*") if path.is_file())


def test_too_many_links_use_spares_and_keep_publishing(catalogue, full_collection, mirror_root, link_limit):
    """The same bytes under many names: the blob runs out of links, the tree links spare copies (one per
    LINK_LIMIT names, not one copy per name), and later publishes of the changed project leave them be."""
    from sync.blobstore import blob_path

    package = SamplePackage("same", "1.0")
    for number in range(11):
        catalogue.add(package, filename=f"same-1.0.{number}-py3-none-any.whl", version=f"1.0.{number}")
    first = catalogue.add(package)
    good = blob_path(first.sha256).read_bytes()

    assert collection_publish(collection=full_collection).files == 12
    root = mirror_root / "pub" / "full"
    wheels = [path for path in _published_files(root) if path.suffix == ".whl"]
    assert len(wheels) == 12
    assert all(path.read_bytes() == good for path in wheels)
    inodes = {path.stat().st_ino for path in wheels}

    for round_ in range(3):  # the project changes: every file of it is visited again
        catalogue.add(package, filename=f"same-2.{round_}-py3-none-any.whl", version=f"2.{round_}")
        revision = collection_publish(collection=full_collection)
        assert revision is not None and revision.files == 13 + round_
    # 3 names on the blob (its own name is the 4th link), then 3 per spare: 12 names on 4 inodes.
    assert len(inodes) == 4
    assert list((mirror_root / "publish-work" / "links").rglob("*"))
    wheels_after = {path: path.stat().st_ino for path in _published_files(root) if path.suffix == ".whl"}
    assert all(wheels_after[path] in inodes or path.name.startswith("same-2.") for path in wheels_after)
    for path in wheels:  # the files published first were not copied or linked again
        assert path.stat().st_ino in inodes
    assert all(path.read_bytes() == good for path in wheels_after)
    assert len(set(wheels_after.values())) == 5  # 15 names: one more spare
