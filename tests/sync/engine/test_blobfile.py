"""A download's temp file written past the page cache: exactly the bytes, whatever the size, and buffered
writes where the file system refuses O_DIRECT (or its alignment)."""

from __future__ import annotations

import errno
import os

import pytest

from sync.engine import blobfile
from sync.engine.blobfile import ALIGN, CHUNK_BYTES, BlobFile, chunk_buffer


def write_like_a_download(path, data: bytes) -> BlobFile:
    """What _fetch_verified does: fill the buffer, write it whole when full, the rest at the end."""
    buffer = chunk_buffer()
    filled = 0
    with BlobFile(path) as out:
        for start in range(0, len(data), 100_000):  # reads of odd sizes, as a socket gives them
            piece = data[start : start + 100_000]
            while piece:
                room = len(buffer) - filled
                buffer[filled : filled + min(room, len(piece))] = piece[:room]
                filled += min(room, len(piece))
                piece = piece[room:]
                if filled == len(buffer):
                    out.write_full(buffer)
                    filled = 0
        out.write_last(buffer[:filled])
    return out


@pytest.mark.parametrize("size", [0, 1, ALIGN - 1, ALIGN, ALIGN + 1, CHUNK_BYTES, 3 * CHUNK_BYTES + 12_345])
def test_every_size_is_written_exactly(tmp_path, size):
    data = os.urandom(size)
    path = tmp_path / "blob.part"
    write_like_a_download(path, data)
    assert path.read_bytes() == data


def test_the_buffer_is_page_aligned_and_reused_by_its_thread():
    buffer = chunk_buffer()
    assert len(buffer) == CHUNK_BYTES and CHUNK_BYTES % ALIGN == 0
    assert chunk_buffer() is buffer


def test_a_file_system_without_o_direct_gets_buffered_writes(tmp_path, monkeypatch):
    real_open = os.open

    def no_direct(path, flags, mode=0o777):
        if flags & blobfile.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")  # what tmpfs answers
        return real_open(path, flags, mode)

    monkeypatch.setattr(blobfile.os, "open", no_direct)
    data = os.urandom(2 * CHUNK_BYTES + 77)
    out = write_like_a_download(tmp_path / "blob.part", data)
    assert not out.direct
    assert (tmp_path / "blob.part").read_bytes() == data


def test_an_alignment_the_file_system_refuses_falls_back_to_buffered_writes(tmp_path, monkeypatch):
    real_write = os.write
    refused = []

    def picky_write(fd, data):
        if not refused:
            refused.append(True)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    monkeypatch.setattr(blobfile.os, "write", picky_write)
    data = os.urandom(CHUNK_BYTES + 5)
    out = write_like_a_download(tmp_path / "blob.part", data)
    assert refused and not out.direct
    assert (tmp_path / "blob.part").read_bytes() == data


def test_other_write_errors_are_not_hidden(tmp_path, monkeypatch):
    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(blobfile.os, "write", full)
    with pytest.raises(OSError) as raised:
        write_like_a_download(tmp_path / "blob.part", b"x" * (CHUNK_BYTES + 1))
    assert raised.value.errno == errno.ENOSPC
