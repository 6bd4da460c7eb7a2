"""PEP 658 metadata extracts (metadata.publishing.core_metadata): bounded in size, temporaries cleaned up."""

from __future__ import annotations

import json
import logging
import os
import time

import pytest

from metadata.publishing import core_metadata
from metadata.services import collection_publish
from sync.blobstore import metadata_blob_path
from sync.sample_packages import SamplePackage

pytestmark = pytest.mark.django_db


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


@pytest.mark.parametrize("how", ["encrypted", "method", "deflate"])
def test_a_damaged_wheel_never_fails_a_publish(how, catalogue, full_collection, mirror_root, caplog):
    """A wheel listed with its sha256 (the sync's archive check skipped) whose METADATA member is damaged:
    published without a .metadata file, and the collection's other files are published (issue 15, item 1)."""
    from sync.sample_packages import build_package
    from tests.factories import _stored
    from tests.sync.hostile import zip_damage

    good = catalogue.add(SamplePackage("fine", "1.0"))
    package = SamplePackage("damaged", "1.0")
    data = zip_damage(build_package(package), ".dist-info/METADATA", how)
    sha256 = _stored(data)
    catalogue.add(package, sha256=sha256, upstream_sha256=sha256, size=len(data))
    caplog.set_level(logging.WARNING, logger="metadata.publishing.core_metadata")

    assert collection_publish(collection=full_collection) is not None

    tree = mirror_root / "pub/full"
    [entry] = json.loads((tree / "simple/damaged/index.json").read_bytes())["files"]
    assert entry["core-metadata"] is False and entry["hashes"]["sha256"] == sha256
    [fine] = json.loads((tree / "simple/fine/index.json").read_bytes())["files"]
    assert fine["core-metadata"] is not False and good.filename == fine["filename"]
    assert "cannot read METADATA of damaged-1.0-py3-none-any.whl" in caplog.text


def test_a_file_name_too_long_for_the_file_system_is_skipped_not_fatal(catalogue, full_collection, mirror_root):
    """A row whose name passes 255 UTF-8 bytes (written before the sync counted bytes) is skipped and
    counted; the collection is published (issue 15, item 2)."""
    from tests.factories import hostile_project

    good = catalogue.add(SamplePackage("fine", "1.0"))
    long_name = "é" * 120 + "-1.0-py3-none-any.whl"
    hostile_project(catalogue, "long", filename=long_name, sha256=good.sha256)
    assert collection_publish(collection=full_collection) is not None
    assert (mirror_root / "pub/full/simple/fine/index.json").exists()
    assert not (mirror_root / "pub/full/simple/long").exists()
