"""File-system helpers every app may use: durable renames, a file system flush, file hashes.

The origin store (sync) and the published trees (metadata) both rely on the same rule: a file is
written under a temporary name in its final folder, flushed, then renamed into place, so a reader (or
a crash) only ever sees the old bytes or the new ones.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO


def fsync_file(path: Path) -> None:
    """fsync one file by path (before its rename, so the new name never points at unflushed bytes)."""
    _fsync(path, os.O_RDONLY)


def fsync_dir(path: Path) -> None:
    """fsync a folder by path (after a rename in it, so the new entry survives a power loss)."""
    _fsync(path, os.O_RDONLY | os.O_DIRECTORY)


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _load_syncfs() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return None
    syncfs.argtypes = [ctypes.c_int]
    syncfs.restype = ctypes.c_int
    return syncfs


_SYNCFS = _load_syncfs()


def sync_filesystem(path: Path) -> None:
    """Flush every dirty page and directory entry of the file system holding `path` to the disk.

    One syncfs() costs less than an fsync per file and per folder, and covers what a publish
    writes everywhere (hardlinks, .metadata extracts, repodata, staged pages, the state copy).
    Python has no os.syncfs, so it is called through libc; os.sync() where syncfs is missing.
    """
    if _SYNCFS is None:
        os.sync()
        return
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _SYNCFS(fd) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"syncfs({path}): {os.strerror(error)}")
    finally:
        os.close(fd)


def atomic_write(
    target: Path,
    content: bytes | Callable[[BinaryIO], None],
    *,
    tmp_dir: Path | None = None,
    prefix: str = ".tmp-",
    durable: bool = False,
) -> Path:
    """Write `content` (bytes, or a function writing to a binary handle) to `target` by rename.

    The temporary file lives in `tmp_dir` (default: target's folder; it must be on the same file
    system) and is removed when anything fails. durable: fsync the file before the rename and the
    folder after it. The file is left world-readable (0644): published trees are served as is.
    """
    fd, tmp = tempfile.mkstemp(dir=tmp_dir or target.parent, prefix=prefix)
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(content, bytes):
                handle.write(content)
            else:
                content(handle)
        os.chmod(tmp, 0o644)
        if durable:
            fsync_file(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(target.parent)
    return target


SHA256_RE = re.compile(r"[0-9a-f]{64}")  # a sha256 hex digest as we write it: lower case


def is_sha256(value: str) -> bool:
    """Is this a sha256 hex digest in lower case (what names a blob, a package folder, a .metadata)?"""
    return bool(SHA256_RE.fullmatch(value))


def sha256_fanout(sha256: str) -> str:
    """<aa>/<bb>/<sha256>: how the store and the published packages/ spread files over folders."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class ThreadedSha256:
    """A sha256 fed on a thread of its own, one chunk behind the caller: hashlib releases the GIL, so a
    pass that does other work over the same bytes runs on two cores. Use as a context manager, so that the
    thread ends; `hexdigest()` waits for the chunks given."""

    def __init__(self, initial: bytes = b"") -> None:
        self._digest = hashlib.sha256(initial)
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: Future | None = None

    def __enter__(self) -> ThreadedSha256:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._wait()
        finally:
            self._pool.shutdown(wait=True)

    def update(self, chunk: bytes) -> None:
        self._wait()  # one chunk in flight: bounded memory, and the order kept
        self._pending = self._pool.submit(self._digest.update, chunk)

    def hexdigest(self) -> str:
        self._wait()
        return self._digest.hexdigest()

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()


class HashingWriter:
    """A file wrapper that hashes and counts what goes through it."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()
