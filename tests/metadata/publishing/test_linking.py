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
