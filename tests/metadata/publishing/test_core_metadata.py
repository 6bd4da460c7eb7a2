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
