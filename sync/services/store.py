"""Verifying the origin store against the catalogue, repairing it, and collecting unreferenced blobs."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.fs import is_sha256
from sync.blobstore import StoreBusy, blob_path, store_lock, store_root, store_tmp_clean, store_tmp_dir
from sync.engine.download import DownloadJob, download_to_store
from sync.engine.http import Client
from sync.engine.pool import bounded_map
from sync.models import File, Project, StoreRun, Upstream
from sync.progress import Progress
from sync.services.bulk import rows_update
from sync.services.catalogue import catalogue_next_serial
from sync.services.client import client_limits, client_policy
from sync.services.runs import MAX_RECORDED_FAILURES, runs_fail_stale
from sync.signals import blobs_repaired

logger = logging.getLogger("sync")

# verified_at is written in short transactions of this many rows: a verify of the whole store
# must not hold every file row locked while a sync writes.
VERIFY_BATCH_ROWS = 200


@dataclass(frozen=True)
class _StoredFile:
    """A stored file's row, as verify and repair need it."""

    id: int
    project_id: int
    sha256: str
    size: int | None
    verified_mtime_ns: int | None
    url: str
    filename: str


@dataclass(frozen=True)
class _Check:
    sha256: str
    problem: str  # "" = sound
    size: int = 0
    mtime_ns: int = 0


def _hash_blob(sha256: str, expected_size: int | None) -> _Check:
    """Runs in a pool thread: hashlib releases the GIL, so blobs hash on every core."""
    path = blob_path(sha256)
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        return _Check(sha256, "missing from the store")
    except OSError as error:
        return _Check(sha256, f"unreadable: {error}")
    if expected_size is not None and stat.st_size != expected_size:
        return _Check(sha256, f"size {stat.st_size}, expected {expected_size} (truncated or grown)")
    if digest != sha256:
        return _Check(sha256, f"corrupt: content hashes to {digest}")
    return _Check(sha256, "", stat.st_size, stat.st_mtime_ns)


def store_verify(*, quick: bool = False, repair: bool = False, progress: Progress | None = None) -> StoreRun:
    """Re-hash every stored blob (every core) and report missing and corrupt ones; repair by fetching again.

    quick: skip blobs whose size and mtime are unchanged since their last full check. A damaged blob
    that is not repaired takes its files out of `stored` (back to pending, so the next sync fetches
    it again): state == stored always means a sound blob. Outcome partial when damage remains.

    One verify at a time: raises StoreBusy, recording no run, when another one is running.
    """
    progress = progress or Progress()
    with store_lock(name="verify"):
        run = StoreRun.objects.create(kind=StoreRun.Kind.VERIFY)
        runs_fail_stale(kind=StoreRun.Kind.VERIFY, current=run)
        return _verify(run, quick=quick, repair=repair, progress=progress)


def _verify(run: StoreRun, *, quick: bool, repair: bool, progress: Progress) -> StoreRun:
    rows = [
        _StoredFile(**values)
        for values in File.objects.filter(state=File.State.STORED).values(
            "id", "project_id", "sha256", "size", "verified_mtime_ns", "url", "filename"
        )
    ]
    by_blob: dict[str, list[_StoredFile]] = defaultdict(list)
    for row in rows:
        by_blob[row.sha256].append(row)
    to_hash: list[tuple[str, int | None]] = []
    skipped = 0
    for sha256, blob_rows in by_blob.items():
        size = blob_rows[0].size
        if quick:
            verified = {row.verified_mtime_ns for row in blob_rows}
            try:
                stat = blob_path(sha256).stat()
            except FileNotFoundError:
                stat = None
            if (
                stat is not None
                and None not in verified
                and verified == {stat.st_mtime_ns}
                and (size is None or stat.st_size == size)
            ):
                skipped += 1
                continue
        to_hash.append((sha256, size))
    to_hash.sort(key=lambda item: item[1] or 0, reverse=True)
    progress.start("verify", total_files=len(to_hash), total_bytes=sum(size or 0 for _, size in to_hash))
    damaged: dict[str, str] = {}
    sound: list[_Check] = []
    workers = os.cpu_count() or 2
    with ThreadPoolExecutor(workers, thread_name_prefix="verify") as pool:
        checks = bounded_map(pool, lambda item: _hash_blob(*item), to_hash, window=workers * 4, on_wait=progress.tick)
        for check in checks:
            progress.add(files=1, bytes=check.size)
            if check.problem:
                damaged[check.sha256] = check.problem
                progress.log(f"{by_blob[check.sha256][0].filename} ({check.sha256[:12]}): {check.problem}")
            else:
                sound.append(check)
    progress.finish()
    run.files_checked = len(to_hash)

    repaired: dict[str, tuple[int, int]] = {}
    if damaged and repair:
        try:
            with store_lock(wait_seconds=30):
                repaired = _repair(damaged, by_blob, run, progress)
        except StoreBusy as error:
            run.message = f"not repaired: {error}"
    now = timezone.now()
    updates = []
    for check in sound:
        for row in by_blob[check.sha256]:
            updates.append(File(id=row.id, verified_at=now, verified_mtime_ns=check.mtime_ns))
    for sha256, (_size, mtime_ns) in repaired.items():
        for row in by_blob[sha256]:
            updates.append(File(id=row.id, verified_at=now, verified_mtime_ns=mtime_ns))
    updates.sort(key=lambda update: update.id)
    for start in range(0, len(updates), VERIFY_BATCH_ROWS):
        with transaction.atomic():
            rows_update(File, ["verified_at", "verified_mtime_ns"], updates[start : start + VERIFY_BATCH_ROWS])
    left = {sha256: problem for sha256, problem in damaged.items() if sha256 not in repaired}
    touched = {row.project_id for sha256 in damaged for row in by_blob[sha256]}
    if touched:
        with transaction.atomic():
            # Lock order of every catalogue writer (see syncing.downloading): the serial row, then files, then projects.
            serial = catalogue_next_serial()
            for sha256, problem in left.items():
                ids = sorted(row.id for row in by_blob[sha256])
                File.objects.filter(id__in=ids).update(
                    state=File.State.PENDING, failure_reason=f"store: {problem}", stored_at=None
                )
            # Publication re-links repaired blobs and drops the ones still missing.
            Project.objects.filter(id__in=touched).update(change_serial=serial)
    run.files_repaired = len(repaired)
    run.files_failed = len(left)
    for sha256, problem in list(left.items())[:MAX_RECORDED_FAILURES]:
        run.failures.append({"project": "", "filename": by_blob[sha256][0].filename, "reason": problem})
    notes = [run.message] if run.message else []
    notes.append(
        f"{len(by_blob)} blobs, {len(to_hash)} hashed, {skipped} unchanged since the last full check, "
        f"{len(damaged)} damaged, {len(repaired)} repaired"
    )
    run.message = "; ".join(notes)
    run.outcome = StoreRun.Outcome.PARTIAL if left else StoreRun.Outcome.OK
    run.finished_at = timezone.now()
    run.save()
    if repaired:
        # The published trees still link the damaged inodes: their owner re-links them now.
        blobs_repaired.send_robust(sender=StoreRun, sha256s=sorted(repaired))
    return run


def _repair(
    damaged: dict[str, str], by_blob: dict[str, list[_StoredFile]], run: StoreRun, progress: Progress
) -> dict[str, tuple[int, int]]:
    """Fetch damaged blobs again from their upstream URL; returns {sha256: (size, mtime_ns)} of the mended."""
    tmp_dir = store_tmp_dir()
    tmp_dir.mkdir(parents=True, exist_ok=True)
    mended: dict[str, tuple[int, int]] = {}
    progress.start("repair", total_files=len(damaged))
    # Repairs fetch the files of every upstream: each one's own host:port is allowed.
    policy = client_policy(*Upstream.objects.values_list("url", flat=True))
    with Client(client_limits(), pool_size=settings.SYNC_DOWNLOAD_WORKERS, policy=policy) as client:

        def fetch(sha256: str) -> tuple[str, bool, str, int]:
            row = by_blob[sha256][0]
            job = DownloadJob(row.id, row.filename, row.url, expected_sha256=sha256, expected_size=row.size)
            result = download_to_store(
                client, job, tmp_dir=tmp_dir, replace=True, on_bytes=lambda n: progress.add(bytes=n)
            )
            return sha256, result.ok, result.reason, result.bytes_read

        with ThreadPoolExecutor(settings.SYNC_DOWNLOAD_WORKERS, thread_name_prefix="repair") as pool:
            for sha256, ok, reason, bytes_read in pool.map(fetch, list(damaged)):
                progress.add(files=1)
                run.bytes_downloaded += bytes_read
                if ok:
                    stat = blob_path(sha256).stat()
                    mended[sha256] = (stat.st_size, stat.st_mtime_ns)
                    progress.log(f"repaired {by_blob[sha256][0].filename}")
                else:
                    damaged[sha256] = f"{damaged[sha256]}; repair failed: {reason}"
                    progress.log(f"could not repair {by_blob[sha256][0].filename}: {reason}")
    progress.finish()
    return mended


def store_collect(*, min_age_seconds: float | None = None, progress: Progress | None = None) -> StoreRun:
    """Delete blobs that no File row and no published tree references, and stale temp files.

    A blob with more than one link is hardlinked from a published tree (MIRROR_ROOT/pub) and stays.
    Only blobs older than min_age_seconds (SYNC_COLLECT_MIN_AGE, default an hour) go, so a blob
    whose row is about to be written is never taken.
    """
    progress = progress or Progress()
    if min_age_seconds is None:
        min_age_seconds = float(settings.SYNC_COLLECT_MIN_AGE)
    run = StoreRun.objects.create(kind=StoreRun.Kind.COLLECT)
    try:
        with store_lock(wait_seconds=float(settings.SYNC_COLLECT_LOCK_WAIT)):
            runs_fail_stale(kind=StoreRun.Kind.COLLECT, current=run)
            referenced = set(File.objects.exclude(sha256="").values_list("sha256", flat=True))
            referenced.update(File.objects.exclude(upstream_sha256="").values_list("upstream_sha256", flat=True))
            cutoff = time.time() - min_age_seconds
            removed, freed, kept_linked = 0, 0, 0
            root = store_root()
            for blob in _store_blobs(root):
                sha256 = blob.name[:64]
                if sha256 in referenced:
                    continue
                try:
                    stat = blob.stat()
                except FileNotFoundError:
                    continue
                if stat.st_nlink > 1:
                    kept_linked += 1
                    continue
                if stat.st_mtime > cutoff:
                    continue
                blob.unlink(missing_ok=True)
                removed += 1
                freed += stat.st_size
            for directory in sorted((p for p in root.glob("??/??") if p.is_dir()), reverse=True):
                _rmdir_if_empty(directory)
                _rmdir_if_empty(directory.parent)
            temp_removed = store_tmp_clean()
    except StoreBusy as error:
        run.outcome = StoreRun.Outcome.FAILED
        run.message = str(error)
    else:
        run.files_removed = removed
        run.outcome = StoreRun.Outcome.OK
        run.message = (
            f"removed {removed} unreferenced blobs ({freed} bytes), kept {kept_linked} still linked from "
            f"published trees, removed {temp_removed} temporary files"
        )
    run.finished_at = timezone.now()
    run.save()
    progress.log(run.message)
    return run


def _store_blobs(root: Path):
    """Blob files (<sha256> and <sha256>.metadata) under store/<aa>/<bb>/."""
    for first in root.glob("??"):
        if not first.is_dir() or first.name == "tmp":
            continue
        for second in first.iterdir():
            if not second.is_dir():
                continue
            for blob in second.iterdir():
                if is_sha256(blob.name[:64]) and blob.name[64:] in ("", ".metadata"):
                    yield blob


def _rmdir_if_empty(directory: Path) -> None:
    try:
        directory.rmdir()
    except OSError:
        pass
