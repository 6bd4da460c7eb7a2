"""The content-addressed origin store on disk (MIRROR_ROOT/store/): its paths, its lock, its temporaries."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from core.fs import is_sha256, sha256_fanout


def store_root() -> Path:
    """MIRROR_ROOT/store: blobs named by their sha256."""
    return Path(settings.MIRROR_ROOT) / "store"


def store_tmp_dir() -> Path:
    """Where downloads stream before their hash is known; on the store's file system so rename is atomic."""
    return store_root() / "tmp"


def blob_path(sha256: str) -> Path:
    """MIRROR_ROOT/store/<aa>/<bb>/<sha256>."""
    if not is_sha256(sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")
    return store_root() / sha256_fanout(sha256)


def metadata_blob_path(sha256: str) -> Path:
    """The PEP 658 core metadata extracted from the blob with this sha256, kept beside it."""
    return blob_path(sha256).with_name(f"{sha256}.metadata")


class StoreBusy(RuntimeError):
    """Another sync, verify or collect holds the store."""


@contextmanager
def store_lock(*, wait_seconds: float = 0, name: str = "") -> Iterator[None]:
    """Hold the store for one writer (sync, verify --repair, collect), across processes.

    name: another, independent lock (store/.lock-<name>), e.g. "verify": one verify at a time.
    An flock dies with its process, so a sync killed with -9 never leaves a stale lock behind.
    """
    root = store_root()
    root.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    with open(root / (f".lock-{name}" if name else ".lock"), "a+") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    if name:
                        raise StoreBusy(f"another {name} is running") from None
                    raise StoreBusy("another sync, verify --repair or collect is using the store") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def store_tmp_clean(*, older_than_seconds: float = 0) -> int:
    """Remove temporary files left by interrupted downloads. Call with the store lock held."""
    tmp = store_tmp_dir()
    tmp.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - older_than_seconds
    removed = 0
    for entry in os.scandir(tmp):
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime <= cutoff:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue
    return removed
