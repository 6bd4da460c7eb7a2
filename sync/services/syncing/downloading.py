"""Downloading: the files not yet stored, biggest first, through a pool; results written in batches."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.fs import sync_filesystem
from sync.blobstore import store_root, store_tmp_dir
from sync.engine.download import DownloadJob, DownloadResult, download_to_store
from sync.engine.text import storable_text
from sync.models import File, Project
from sync.services.bulk import rows_update
from sync.services.catalogue import catalogue_next_serial
from sync.services.syncing.context import FLUSH_EVERY_ITEMS, FLUSH_EVERY_SECONDS, Batch, SyncContext


@dataclass(frozen=True)
class PendingFile:
    """A file row not yet stored, as the downloads need it."""

    id: int
    project_id: int
    project_name: str
    filename: str
    url: str
    upstream_sha256: str
    size: int | None
    attempts: int


def download_pending(ctx: SyncContext) -> None:
    """Download every file of the upstream that is not stored yet (pending or failed before)."""
    rows = [
        PendingFile(**values)
        for values in File.objects.filter(project__upstream=ctx.upstream, project__removed=False)
        .exclude(state=File.State.STORED)
        .annotate(project_name=F("project__name"))
        .values("id", "project_id", "project_name", "filename", "url", "upstream_sha256", "size", "attempts")
    ]
    if not rows:
        return
    info = {row.id: row for row in rows}
    jobs = [DownloadJob(row.id, row.filename, row.url, row.upstream_sha256, row.size) for row in rows]
    jobs = order_jobs(ctx, jobs)
    total_bytes = sum(job.expected_size or 0 for job in jobs)
    ctx.progress.start("download", total_files=len(jobs), total_bytes=total_bytes)
    tmp_dir = store_tmp_dir()
    tmp_dir.mkdir(parents=True, exist_ok=True)
    # SYNC_FSYNC: blobs are written without waiting for the disk; each group of results is made durable
    # by one syncfs of the store (on a thread of its own, while downloads go on), and only then recorded
    # as stored. A crash before a group's flush leaves its blobs unrecorded: the next run re-hashes them.
    durable = settings.SYNC_FSYNC
    batch: Batch[DownloadResult] | FlushedBatch = (
        FlushedBatch(lambda results: apply_downloads(ctx, results, info), store_root())
        if durable
        else Batch(lambda results: apply_downloads(ctx, results, info))
    )

    def fetch(job: DownloadJob) -> DownloadResult:
        return download_to_store(
            ctx.client,
            job,
            tmp_dir=tmp_dir,
            on_bytes=lambda count: ctx.progress.add(bytes=count),
            cancelled=ctx.cancel.is_set,
            durable=False,  # made durable by the group's flush (FlushedBatch), before it is recorded
            min_free_bytes=settings.SYNC_MIN_FREE_BYTES,
        )

    workers = settings.SYNC_DOWNLOAD_WORKERS
    with ThreadPoolExecutor(workers, thread_name_prefix="sync-download") as pool, batch:
        for result in ctx.bounded(pool, fetch, jobs, window=workers * 2):
            ctx.progress.add(files=1)
            ctx.run.bytes_downloaded += result.bytes_read
            if result.disk_full or (result.cancelled and not result.ok):
                # Nothing is wrong with the file: it stays as it was (pending) for the next run.
                if result.disk_full:
                    ctx.stop(result.reason)
                continue
            if not result.ok:
                filename = info[result.key].filename
                ctx.progress.log(f"failed {filename}: {result.reason}")
            batch.add(result)
        batch.flush()
    ctx.progress.finish()


class FlushedBatch:
    """A Batch whose groups are flushed to disk (one syncfs of the store) before they are written.

    The flush runs on a thread of its own, so downloads go on meanwhile; groups are written by the
    main thread, in order, once their flush is done (checked at every add, waited for at flush()).
    """

    def __init__(self, write: Callable[[list[DownloadResult]], None], root: Path) -> None:
        self.write = write
        self.root = root
        self.items: list[DownloadResult] = []
        self.started = time.monotonic()
        self.inflight: deque[tuple[Future[None], list[DownloadResult]]] = deque()
        self.flusher = ThreadPoolExecutor(1, thread_name_prefix="sync-flush")

    def __enter__(self) -> FlushedBatch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.flusher.shutdown(wait=True)

    def add(self, item: DownloadResult) -> None:
        self.items.append(item)
        if len(self.items) >= FLUSH_EVERY_ITEMS or time.monotonic() - self.started >= FLUSH_EVERY_SECONDS:
            self._submit()
        self._drain(wait=False)

    def flush(self) -> None:
        self._submit()
        self._drain(wait=True)

    def _submit(self) -> None:
        if not self.items:
            return
        group, self.items, self.started = self.items, [], time.monotonic()
        # Only groups with something stored need the disk; failures are written in order all the same.
        needed = any(result.ok for result in group)
        future: Future[None] = self.flusher.submit(sync_filesystem, self.root) if needed else _done()
        self.inflight.append((future, group))

    def _drain(self, *, wait: bool) -> None:
        while self.inflight and (wait or self.inflight[0][0].done()):
            future, group = self.inflight.popleft()
            future.result()  # an I/O error of the flush ends the run: nothing of the group is recorded
            self.write(group)


def _done() -> Future[None]:
    future: Future[None] = Future()
    future.set_result(None)
    return future


def order_jobs(ctx: SyncContext, jobs: list[DownloadJob]) -> list[DownloadJob]:
    """Biggest first, so the last minutes are not one big file on one core.

    Where the index gives no sizes (PEP 503 HTML), ask for them with HEAD requests in parallel:
    one cheap request per file against a multi-second tail.
    """
    unknown = [job for job in jobs if job.expected_size is None]
    if len(unknown) > settings.SYNC_DOWNLOAD_WORKERS and settings.SYNC_PROBE_SIZES:
        sizes: dict[int, int] = {}

        def probe(job: DownloadJob) -> tuple[int, int | None]:
            return job.key, ctx.client.body_size(job.url)

        with ThreadPoolExecutor(settings.SYNC_INDEX_WORKERS, thread_name_prefix="sync-size") as pool:
            for key, size in ctx.bounded(pool, probe, unknown, window=settings.SYNC_INDEX_WORKERS * 4):
                if size is not None:
                    sizes[key] = size
        hints = {job.key: sizes.get(job.key, 0) for job in unknown}
    else:
        hints = {}
    return sorted(jobs, key=lambda job: job.expected_size or hints.get(job.key, 0), reverse=True)


def apply_downloads(ctx: SyncContext, results: list[DownloadResult], info: dict[int, PendingFile]) -> None:
    if not results:
        return
    now = timezone.now()
    updates: list[File] = []
    for result in results:
        row = info[result.key]
        attempts = row.attempts + result.attempts
        if result.ok:
            updates.append(
                File(
                    id=result.key,
                    state=File.State.STORED,
                    sha256=result.sha256,
                    size=result.size,
                    stored_at=now,
                    failure_reason="",
                    attempts=attempts,
                )
            )
            ctx.run.files_downloaded += 1
            if result.attempts == 0:
                ctx.state.adopted += 1
        else:
            updates.append(
                File(
                    id=result.key,
                    state=File.State.FAILED,
                    sha256="",
                    size=row.size,
                    stored_at=None,
                    failure_reason=storable_text(result.reason, 2000),
                    attempts=attempts,
                )
            )
            ctx.run.files_failed += 1
            ctx.state.fail(project=row.project_name, filename=row.filename, reason=result.reason)
    project_ids = {info[result.key].project_id for result in results}
    with transaction.atomic():
        # Lock order of every catalogue writer (sync, verify): the serial row, then files, then projects.
        serial = catalogue_next_serial()
        rows_update(File, ["state", "sha256", "size", "stored_at", "failure_reason", "attempts"], updates)
        Project.objects.filter(id__in=project_ids).update(change_serial=serial, updated_at=now)
    ctx.state.save()
