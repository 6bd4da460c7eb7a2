"""One download into the content-addressed store: stream, hash while streaming, check, rename.

Runs in worker threads: no database access here. hashlib and file writes release the GIL on
big buffers, so downloads on several threads hash on every core.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.fs import fsync_dir, fsync_file
from sync.blobstore import blob_path
from sync.engine.archive import BadArchive, archive_check
from sync.engine.blobfile import BlobFile, chunk_buffer
from sync.engine.http import Client, FetchError, retrying

logger = logging.getLogger("sync")


class DiskFull(Exception):
    """The store's file system is full (ENOSPC) or below the free-space reserve: the run must stop."""


@dataclass(frozen=True)
class DownloadJob:
    """What to fetch and what it must hash to ("" = no hash from the index)."""

    key: int  # the File row's id
    filename: str
    url: str
    expected_sha256: str = ""
    expected_size: int | None = None


@dataclass(frozen=True)
class DownloadResult:
    key: int
    ok: bool
    sha256: str = ""
    size: int = 0
    bytes_read: int = 0  # every attempt's bytes, for the run's statistics
    attempts: int = 0
    reason: str = ""
    disk_full: bool = False  # the run stops: no further download can succeed
    cancelled: bool = False  # cut short by the run's stop: nothing wrong with the file


def download_to_store(
    client: Client,
    job: DownloadJob,
    *,
    tmp_dir: Path,
    on_bytes: Callable[[int], None] = lambda n: None,
    cancelled: Callable[[], bool] = lambda: False,
    replace: bool = False,
    durable: bool = True,
    min_free_bytes: int = 0,
) -> DownloadResult:
    """Fetch job.url into the store with retries; the blob appears only once verified (and durable).

    replace: overwrite a blob already in the store (repairing a corrupt one).
    durable: fsync the blob and its directory (see store_blob).
    min_free_bytes: refuse to start (disk_full) unless this much stays free after the file.

    Never raises: whatever goes wrong with this file is this file's failure, with its reason.
    """
    try:
        return _download(
            client,
            job,
            tmp_dir=tmp_dir,
            on_bytes=on_bytes,
            cancelled=cancelled,
            replace=replace,
            durable=durable,
            min_free_bytes=min_free_bytes,
        )
    except DiskFull as error:
        return DownloadResult(job.key, False, reason=str(error), disk_full=True)
    except Exception as error:  # a bug or an unforeseen error: this file fails, the run goes on
        logger.exception("download of %s failed", job.filename)
        return DownloadResult(job.key, False, reason=f"internal error: {type(error).__name__}: {str(error)[:300]}")


def _download(
    client: Client,
    job: DownloadJob,
    *,
    tmp_dir: Path,
    on_bytes: Callable[[int], None],
    cancelled: Callable[[], bool],
    replace: bool,
    durable: bool,
    min_free_bytes: int,
) -> DownloadResult:
    if job.expected_sha256 and not replace:
        found = _existing_blob(job.expected_sha256, job.expected_size)
        if found is not None:
            return DownloadResult(job.key, True, job.expected_sha256, found, 0, 0)
        # A blob there that does not hash right (damaged) is overwritten by the verified download.
        replace = blob_path(job.expected_sha256).exists()
    tally = {"bytes": 0, "attempts": 0}
    free_space_check(tmp_dir, job.expected_size or 0, min_free_bytes)

    def attempt() -> tuple[str, int]:
        tally["attempts"] += 1
        return _attempt(
            client,
            job,
            tmp_dir=tmp_dir,
            on_bytes=on_bytes,
            tally=tally,
            cancelled=cancelled,
            replace=replace,
            durable=durable,
        )

    try:
        sha256, size = retrying(client.limits, attempt, cancelled=cancelled)
    except FetchError as error:
        return DownloadResult(
            job.key,
            False,
            bytes_read=tally["bytes"],
            attempts=tally["attempts"],
            reason=str(error),
            cancelled=cancelled(),
        )
    return DownloadResult(job.key, True, sha256, size, tally["bytes"], tally["attempts"])


def _attempt(
    client: Client,
    job: DownloadJob,
    *,
    tmp_dir: Path,
    on_bytes: Callable[[int], None],
    tally: dict[str, int],
    cancelled: Callable[[], bool],
    replace: bool,
    durable: bool,
) -> tuple[str, int]:
    # The temp name never contains the upstream's file name: nothing from upstream reaches a path.
    tmp_path = tmp_dir / f"{job.key}-{uuid.uuid4().hex}.part"
    try:
        sha256, size = _fetch_verified(client, job, tmp_path, on_bytes=on_bytes, tally=tally, cancelled=cancelled)
        store_blob(tmp_path, sha256, size, replace=replace, durable=durable)
        return sha256, size
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(f"the store's file system is full ({error.strerror}): the sync stops here") from error
        raise
    finally:
        tmp_path.unlink(missing_ok=True)


def _fetch_verified(
    client: Client,
    job: DownloadJob,
    tmp_path: Path,
    *,
    on_bytes: Callable[[int], None],
    tally: dict[str, int],
    cancelled: Callable[[], bool],
) -> tuple[str, int]:
    """Stream the body into tmp_path and check it (size, sha256, or the archive): (sha256, size)."""
    limits = client.limits
    started = time.monotonic()
    buffer = chunk_buffer()
    digest = hashlib.sha256()
    size = 0
    with client.open_body(job.url) as body:
        if body.length is not None and body.length > limits.max_file_bytes:
            raise FetchError(
                f"{job.filename}: {body.length} bytes exceeds the file size cap of {limits.max_file_bytes}",
                retryable=False,
            )
        if job.expected_size is not None and body.length is not None and body.length != job.expected_size:
            raise FetchError(
                f"{job.filename}: upstream sends {body.length} bytes, the index says {job.expected_size}",
                retryable=True,
            )
        with BlobFile(tmp_path) as out:
            # Reads fill the buffer from `filled` on; a full buffer is written whole (aligned for
            # O_DIRECT), the partial last one at the end.
            filled = 0
            while True:
                if cancelled():
                    raise FetchError(f"{job.filename}: cancelled", retryable=False)
                count = body.readinto(buffer[filled:])
                if not count:
                    break
                digest.update(buffer[filled : filled + count])
                filled += count
                if filled == len(buffer):
                    out.write_full(buffer)
                    filled = 0
                size += count
                tally["bytes"] += count
                on_bytes(count)
                if size > limits.max_file_bytes:
                    raise FetchError(
                        f"{job.filename}: exceeds the file size cap of {limits.max_file_bytes} bytes",
                        retryable=False,
                    )
                _check_rate(job, limits.min_rate_bytes, limits.read_timeout, started, size)
            out.write_last(buffer[:filled])
    if body.length is not None and size != body.length:
        raise FetchError(f"{job.filename}: truncated, {size} of {body.length} bytes", retryable=True)
    if job.expected_size is not None and size != job.expected_size:
        raise FetchError(f"{job.filename}: {size} bytes, the index says {job.expected_size}", retryable=True)
    sha256 = digest.hexdigest()
    if job.expected_sha256 and sha256 != job.expected_sha256:
        raise FetchError(f"{job.filename}: sha256 mismatch (index {job.expected_sha256}, got {sha256})", retryable=True)
    if not job.expected_sha256:
        try:
            archive_check(
                tmp_path,
                job.filename,
                max_unpacked_bytes=max(100 * size, 1024**3),
                max_members=limits.max_archive_members,
            )
        except BadArchive as error:
            # Deterministic: the same bytes are refused again, so not retried within the run (the
            # next run tries again, in case the upstream fixed its file).
            raise FetchError(f"no hash from the index and {error}", retryable=False) from error
    return sha256, size


def free_space_check(directory: Path, incoming: int, reserve: int) -> None:
    """DiskFull unless `incoming` bytes fit with `reserve` bytes to spare (SYNC_MIN_FREE_BYTES)."""
    if reserve <= 0:
        return
    usage = os.statvfs(directory)
    free = usage.f_bavail * usage.f_frsize
    if free - incoming < reserve:
        raise DiskFull(
            f"less than SYNC_MIN_FREE_BYTES={reserve} bytes would stay free in the store "
            f"({free} free, {incoming} bytes to come): the sync stops here"
        )


def _existing_blob(sha256: str, expected_size: int | None) -> int | None:
    """The size of a sound blob already in the store (a resumed run, or the same file elsewhere), or None.

    Re-hashed rather than trusted: a blob that verify found damaged may still be there.
    """
    path = blob_path(sha256)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if expected_size is not None and size != expected_size:
                return None
            if hashlib.file_digest(handle, "sha256").hexdigest() != sha256:
                return None
    except FileNotFoundError:
        return None
    return size


def _check_rate(job: DownloadJob, min_rate: int, grace: float, started: float, size: int) -> None:
    """After `grace` seconds, a body must average min_rate bytes/s; a trickle is failed, not waited for.

    Not retried within the run (a slow upstream would cost the deadline again per retry): the file
    stays failed and the next run tries it again.
    """
    if min_rate <= 0:
        return
    elapsed = time.monotonic() - started
    if elapsed > grace and size < min_rate * (elapsed - grace):
        raise FetchError(
            f"{job.filename}: too slow, {size} bytes in {elapsed:.1f} s, below the minimum of {min_rate} bytes/s",
            retryable=False,
        )


def store_blob(tmp_path: Path, sha256: str, size: int, *, replace: bool = False, durable: bool = True) -> Path:
    """Move a verified temp file to blob_path(sha256) by an atomic rename.

    A sound blob already there (the same content from another project, or a resumed run) is kept,
    with its links into published trees; it is re-hashed first, because a damaged one of the same
    size must be replaced (the content in tmp_path was just verified). replace: always replace.
    durable: fsync the content before the rename and the directory after it, so that a blob the
    catalogue calls `stored` survives a power loss.
    """
    target = blob_path(sha256)
    if not replace and _existing_blob(sha256, size) is not None:
        return target
    directory = target.parent
    created = not directory.is_dir()
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(tmp_path, 0o644)
    if durable:
        fsync_file(tmp_path)
    os.replace(tmp_path, target)
    if durable:
        fsync_dir(directory)
        if created:  # the new <aa>/<bb> entries themselves
            fsync_dir(directory.parent)
            fsync_dir(directory.parent.parent)
    return target
