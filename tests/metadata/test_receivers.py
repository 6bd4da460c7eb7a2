"""Receivers of the metadata app: after verify --repair, no published file stays on a damaged inode."""

from __future__ import annotations

import hashlib

import pytest

from metadata.services import collection_publish
from sync.blobstore import blob_path
from sync.models import File, StoreRun
from sync.sample_packages import SamplePackage
from sync.services import store_verify, upstream_sync
from tests.metadata.conftest import make_collection
from tests.sync.conftest import fake_upstream, fast_sync_settings, upstream_row  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_repair_relinks_every_published_copy_at_once(fake_upstream, upstream_row, mirror_root):  # noqa: F811
    for package in (SamplePackage("mended", "1.0", payload_bytes=4096), SamplePackage("mended", "1.0", kind="sdist")):
        fake_upstream.add(package)
    assert upstream_sync(upstream=upstream_row).outcome == StoreRun.Outcome.OK
    full = collection_publish(collection=make_collection("everything"))
    wheels = collection_publish(collection=make_collection("wheels", package_types=["bdist_wheel"]))
    assert full.files == 2 and wheels.files == 1
    wheel = File.objects.get(filename__endswith=".whl")
    copies = [
        mirror_root / "pub" / slug / "packages" / wheel.sha256[:2] / wheel.sha256[2:4] / wheel.sha256 / wheel.filename
        for slug in ("everything", "wheels")
    ]
    blob = blob_path(wheel.sha256)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    with open(blob, "r+b") as handle:  # damaged in place: every hardlink of the inode too
        handle.write(bytes(data))
    assert all(hashlib.sha256(copy.read_bytes()).hexdigest() != wheel.sha256 for copy in copies)

    run = store_verify(repair=True)

    assert run.outcome == StoreRun.Outcome.OK and run.files_repaired == 1
    # At once, not at the next publish: every published copy has the right bytes, on the new inode.
    for copy in copies:
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == wheel.sha256
        assert copy.stat().st_ino == blob_path(wheel.sha256).stat().st_ino
    assert not list((mirror_root / "pub").rglob(".*"))  # nothing temporary left in the trees
    assert store_verify().outcome == StoreRun.Outcome.OK
