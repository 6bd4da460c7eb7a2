"""The file-system helpers (core.fs) that the store and the published trees share."""

from __future__ import annotations

import hashlib
import os

import pytest

from core import fs


def test_atomic_write_replaces_by_rename_and_leaves_no_temporary(tmp_path, monkeypatch):
    tmp_path = tmp_path / "tree"
    tmp_path.mkdir()
    target = tmp_path / "page.html"
    target.write_bytes(b"old")
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd)))
    fs.atomic_write(target, b"new", durable=True)
    assert target.read_bytes() == b"new" and oct(target.stat().st_mode & 0o777) == "0o644"
    assert os.listdir(tmp_path) == ["page.html"]
    assert synced[-1] == str(tmp_path)  # the folder after the rename, the file before it
    assert synced[0].startswith(str(tmp_path / ".tmp-"))


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    tmp_path = tmp_path / "tree"
    tmp_path.mkdir()
    target = tmp_path / "page.html"
    target.write_bytes(b"old")

    def broken(handle):
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        fs.atomic_write(target, broken)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["page.html"]


def test_hashes_and_names(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"x" * 100_000)
    digest = hashlib.sha256(b"x" * 100_000).hexdigest()
    assert fs.file_sha256(path) == digest
    assert fs.is_sha256(digest) and not fs.is_sha256(digest.upper()) and not fs.is_sha256(digest[:-1])
    assert fs.sha256_fanout(digest) == f"{digest[:2]}/{digest[2:4]}/{digest}"


def test_flushes_run(tmp_path):
    (tmp_path / "f").write_bytes(b"1")
    fs.fsync_file(tmp_path / "f")
    fs.fsync_dir(tmp_path)
    fs.sync_filesystem(tmp_path)


def test_threaded_sha256_is_the_sha256_of_every_chunk_in_order():
    chunks = [os.urandom(size) for size in (0, 1, 4096, 100_000, 7)]
    with fs.ThreadedSha256(b"head") as digest:
        for chunk in chunks:
            digest.update(chunk)
        assert digest.hexdigest() == hashlib.sha256(b"head" + b"".join(chunks)).hexdigest()


def test_threaded_sha256_passes_on_an_error_of_its_thread():
    with pytest.raises(TypeError), fs.ThreadedSha256() as digest:
        digest.update("not bytes")  # type: ignore[arg-type]
        digest.hexdigest()
