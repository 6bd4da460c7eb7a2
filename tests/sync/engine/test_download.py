"""One download into the store: the blob is durable (fsynced) before it counts as stored."""

from __future__ import annotations

import hashlib
import os

import pytest

from sync.blobstore import blob_path, store_tmp_dir
from sync.engine import download


@pytest.mark.parametrize("durable", [True, False])
def test_store_blob_fsyncs_the_file_before_and_the_directory_after_the_rename(durable, monkeypatch, mirror_root):
    data = b"some verified content"
    sha256 = hashlib.sha256(data).hexdigest()
    tmp = store_tmp_dir()
    tmp.mkdir(parents=True)
    part = tmp / "1-x.part"
    part.write_bytes(data)
    calls: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        kind = "dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "file"
        calls.append((kind, blob_path(sha256).exists()))
        real_fsync(fd)

    monkeypatch.setattr(download.os, "fsync", recording_fsync)
    download.store_blob(part, sha256, len(data), durable=durable)

    assert blob_path(sha256).read_bytes() == data and not part.exists()
    if durable:
        assert calls[0] == ("file", False)  # the content, before it appears under its name
        assert ("dir", True) in calls  # the rename, after
    else:
        assert calls == []


def test_store_blob_replaces_a_damaged_blob_of_the_same_size(mirror_root):
    data = b"the right content"
    sha256 = hashlib.sha256(data).hexdigest()
    target = blob_path(sha256)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"the wrong content")
    tmp = store_tmp_dir()
    tmp.mkdir(parents=True)
    part = tmp / "1-y.part"
    part.write_bytes(data)
    download.store_blob(part, sha256, len(data))
    assert target.read_bytes() == data
