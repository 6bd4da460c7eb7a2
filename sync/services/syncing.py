"""Syncing an upstream into the catalogue and the store.

The main thread owns the database (SQLite allows one writer) and writes in batches; index pages
are fetched and parsed by one thread pool, files downloaded and hashed by another. A run is
resumable at any point: listings are committed before downloads start, a file becomes `stored`
only after its verified blob was renamed into the store, and the next run first adopts blobs
that are already there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sync.blobstore import store_lock, store_tmp_clean, store_tmp_dir
from sync.engine.download import DownloadJob, DownloadResult, download_to_store
from sync.engine.http import Client, FetchError, Limits, Page, file_tree_root, retrying
from sync.engine.index import (
    IndexFormatError,
    ProjectListing,
    RemoteFile,
    RemoteProject,
    parse_project,
    parse_root,
)
from sync.filters import FilterSpec
from sync.models import File, Project, SyncRun, Upstream
from sync.progress import Progress
from sync.services.bulk import rows_update
from sync.services.catalogue import catalogue_next_serial
from sync.services.runs import runs_fail_stale
from sync.signals import catalogue_changed

logger = logging.getLogger("sync")

MAX_RECORDED_FAILURES = 500
FLUSH_EVERY_SECONDS = 1.0
FLUSH_EVERY_ITEMS = 200
# The mass removal guard (SYNC_MAX_REMOVE_FRACTION) applies from this many listed projects on.
MASS_REMOVAL_MIN_PROJECTS = 20
# HTTP validators longer than their column are dropped (the next request is then unconditional).
MAX_ETAG_LENGTH = Project._meta.get_field("etag").max_length
MAX_LAST_MODIFIED_LENGTH = Project._meta.get_field("last_modified").max_length
T = TypeVar("T")
R = TypeVar("R")


class SyncAborted(Exception):
    """The run cannot go on (upstream unreadable, store busy); the message says why."""


def client_limits() -> Limits:
    """Timeouts, caps and retries from settings (SYNC_*)."""
    return Limits(
        connect_timeout=settings.SYNC_CONNECT_TIMEOUT,
        read_timeout=settings.SYNC_READ_TIMEOUT,
        max_index_bytes=settings.SYNC_MAX_INDEX_BYTES,
        max_file_bytes=settings.SYNC_MAX_FILE_BYTES,
        retries=settings.SYNC_RETRIES,
        backoff=settings.SYNC_RETRY_BACKOFF,
        min_rate_bytes=settings.SYNC_MIN_RATE_BYTES,
    )


def _validator(value: str, limit: int | None) -> str:
    """An HTTP validator as stored: dropped when longer than its column (it only saves a request)."""
    return value if limit is None or len(value) <= limit else ""


def sync_all(
    *,
    upstreams: Iterable[Upstream] | None = None,
    progress: Progress | None = None,
    allow_mass_removal: bool = False,
    on_run: Callable[[SyncRun], None] | None = None,
) -> list[SyncRun]:
    """Sync every enabled upstream (or these `upstreams`) in turn; queue one publication if anything changed.

    on_run: called with each finished run (the command prints its summary).
    Raises StoreBusy, having synced nothing more, when another sync (or verify --repair, or
    collect) holds the store: the hourly schedule meeting a long sync is not a failure.
    """
    if upstreams is None:
        upstreams = Upstream.objects.filter(enabled=True).order_by("name")
    runs: list[SyncRun] = []
    try:
        for upstream in upstreams:
            run = upstream_sync(
                upstream=upstream, progress=progress, publish=False, allow_mass_removal=allow_mass_removal
            )
            runs.append(run)
            if on_run is not None:
                on_run(run)
    finally:
        changed = [run for run in runs if run_changed(run)]
        if changed:
            catalogue_changed_send(runs=changed)
    return runs


def upstream_sync(
    *,
    upstream: Upstream,
    progress: Progress | None = None,
    publish: bool = True,
    allow_mass_removal: bool = False,
) -> SyncRun:
    """Sync one upstream: listings into the catalogue, files into the store, a SyncRun row for admins.

    Never raises for upstream trouble: the run records it (outcome failed or partial). After a
    run that changed anything, publication is queued (unless publish=False).

    Raises StoreBusy, and records no run, when another sync, verify --repair or collect holds the
    store: the running one does the work, so a skipped start is neither a run nor a failure.
    allow_mass_removal: lift the SYNC_MAX_REMOVE_FRACTION guard for this run.
    """
    progress = progress or Progress()
    with store_lock():
        run = SyncRun.objects.create(upstream=upstream, kind=SyncRun.Kind.SYNC)
        state = _RunState(run)
        try:
            # Holding the lock, no other run is alive: any still "running" died (kill -9, power loss).
            runs_fail_stale(kind=SyncRun.Kind.SYNC, current=run)
            removed = store_tmp_clean()
            if removed:
                progress.log(f"removed {removed} temporary files left by an interrupted run")
            local_roots = (file_tree_root(upstream.url),) if urlsplit(upstream.url).scheme == "file" else ()
            with Client(
                client_limits(),
                pool_size=max(settings.SYNC_INDEX_WORKERS, settings.SYNC_DOWNLOAD_WORKERS),
                local_roots=local_roots,
            ) as client:
                _UpstreamSync(upstream, state, client, progress, allow_mass_removal=allow_mass_removal).execute()
        except SyncAborted as error:
            state.outcome = SyncRun.Outcome.FAILED
            state.message = str(error)
            progress.log(f"sync of {upstream.name} failed: {error}")
        except KeyboardInterrupt:
            state.outcome = SyncRun.Outcome.FAILED
            state.message = "interrupted"
            state.save(final=True)
            raise
        except Exception as error:  # a bug must not leave the run "running" for ever
            logger.exception("sync of %s crashed", upstream.name)
            state.outcome = SyncRun.Outcome.FAILED
            state.message = f"internal error: {type(error).__name__}: {error}"
        finally:
            progress.finish()
        state.save(final=True)
    if publish and run_changed(run):
        catalogue_changed_send(runs=[run])
    return run


def run_changed(run: SyncRun) -> bool:
    """Did this run change the catalogue (so publication has work)?"""
    return bool(
        run.files_new
        or run.files_updated
        or run.files_removed
        or run.files_downloaded
        or run.projects_changed
        or run.projects_removed
    )


def catalogue_changed_send(*, runs: list[SyncRun]) -> None:
    """Tell the higher apps that these runs changed the catalogue (metadata queues publication)."""
    catalogue_changed.send_robust(sender=SyncRun, runs=runs)


# -- one run -------------------------------------------------------------------------------------


class _RunState:
    """The counters of a run, saved to its SyncRun row now and then and at the end."""

    def __init__(self, run: SyncRun) -> None:
        self.run = run
        self.outcome: str | None = None
        self.message = ""
        self.failures_total = 0
        self.problems = 0  # run-level failures (e.g. the mass removal guard): partial, not ok
        self.adopted = 0  # files found already in the store (a resumed run), not downloaded

    def fail(self, *, project: str, filename: str = "", reason: str) -> None:
        self.failures_total += 1
        if len(self.run.failures) < MAX_RECORDED_FAILURES:
            # Names come from the upstream: bounded, whatever it sends.
            self.run.failures.append({"project": project[:250], "filename": filename[:300], "reason": reason[:2000]})

    def save(self, *, final: bool = False) -> None:
        run = self.run
        if final:
            if self.outcome is None:
                failed = run.files_failed or run.projects_failed or self.problems
                self.outcome = SyncRun.Outcome.PARTIAL if failed else SyncRun.Outcome.OK
            run.outcome = self.outcome
            run.finished_at = timezone.now()
            hidden = self.failures_total - len(run.failures)
            notes = [self.message] if self.message else []
            if self.adopted:
                notes.append(f"{self.adopted} files were already in the store (verified, not downloaded)")
            if hidden > 0:
                notes.append(f"{hidden} more failures not listed")
            run.message = "; ".join(notes)
        run.save()


@dataclass
class _Known:
    """A project row as loaded for one run."""

    id: int
    name: str
    url: str
    last_serial: int | None
    etag: str
    last_modified: str
    page_sha256: str
    removed: bool


@dataclass
class _PageResult:
    remote: RemoteProject
    page: Page | None = None
    listing: ProjectListing | None = None
    error: str = ""
    unchanged: bool = False
    sizes: dict[str, int] = field(default_factory=dict)


class _UpstreamSync:
    def __init__(
        self, upstream: Upstream, state: _RunState, client: Client, progress: Progress, *, allow_mass_removal: bool
    ) -> None:
        self.upstream = upstream
        self.allow_mass_removal = allow_mass_removal
        # Root validators and serial are kept only after a complete pass (see execute).
        self.root_complete = True
        self.state = state
        self.run = state.run
        self.client = client
        self.progress = progress
        self.spec = FilterSpec.from_dict(upstream.filters or {})
        self.scheme = urlsplit(upstream.url).scheme
        # An http(s) upstream may only send us to http(s); a local tree may also use file://.
        self.allowed_schemes: tuple[str, ...] = (
            ("http", "https", "file") if self.scheme == "file" else ("http", "https")
        )
        self.cancel = threading.Event()
        self.touched_projects: set[int] = set()

    # -- the run ---------------------------------------------------------------------------------

    def execute(self) -> None:
        limits = self.client.limits
        try:
            root = retrying(
                limits,
                lambda: self.client.get_page(
                    self.upstream.url, etag=self.upstream.root_etag, last_modified=self.upstream.root_last_modified
                ),
            )
        except FetchError as error:
            raise SyncAborted(f"cannot read the upstream's root page: {error}") from error
        if root.not_modified and not (self.upstream.root_etag or self.upstream.root_last_modified):
            raise SyncAborted("the upstream's root page answered 304 Not Modified to an unconditional request")

        known = {
            row.normalized_name: _Known(
                row.id,
                row.name,
                row.url,
                row.last_serial,
                row.etag,
                row.last_modified,
                row.page_sha256,
                row.removed,
            )
            for row in Project.objects.filter(upstream=self.upstream).only(
                "id", "name", "normalized_name", "url", "last_serial", "etag", "last_modified", "page_sha256", "removed"
            )
        }
        root_serial, listed = self._root_listing(root, known)
        serial_unchanged = root_serial is not None and root_serial == self.upstream.last_serial
        wanted = {name: remote for name, remote in listed.items() if self.spec.project_allowed(name)}
        self._remove_gone([known[name] for name in known if name not in wanted and not known[name].removed], known)

        to_fetch: list[RemoteProject] = []
        if not serial_unchanged:
            for name, remote in wanted.items():
                row = known.get(name)
                fresh = (
                    row is not None
                    and not row.removed
                    and remote.serial is not None
                    and row.last_serial == remote.serial
                )
                if not fresh:
                    to_fetch.append(remote)
        self.run.projects_checked = len(to_fetch)
        self._fetch_projects(to_fetch, known)
        self._download_pending()

        upstream = self.upstream
        # The root's validators and serial are only taken once every project page they cover was
        # read: otherwise the next run would see "unchanged" and skip the pages that failed.
        if not self.run.projects_failed and self.root_complete:
            if root.status == 200:
                upstream.root_etag = _validator(root.etag, Upstream._meta.get_field("root_etag").max_length)
                upstream.root_last_modified = _validator(
                    root.last_modified, Upstream._meta.get_field("root_last_modified").max_length
                )
                upstream.root_sha256 = root.sha256
            if root_serial is not None:
                upstream.last_serial = root_serial
        upstream.last_synced_at = timezone.now()
        upstream.save(update_fields=["root_etag", "root_last_modified", "root_sha256", "last_serial", "last_synced_at"])

    def _root_listing(self, root: Page, known: dict[str, _Known]) -> tuple[int | None, dict[str, RemoteProject]]:
        if root.not_modified:
            # Same root as last time: the catalogue's projects are the listing; pages may still change.
            listed = {
                name: RemoteProject(row.name, name, row.url or urljoin(root.url, f"{name}/"), None)
                for name, row in known.items()
                if not row.removed
            }
            return self.upstream.last_serial, listed
        try:
            listing = parse_root(root.body, content_type=root.content_type, base_url=root.url)
        except IndexFormatError as error:
            raise SyncAborted(f"the upstream's root page is not a simple index: {error}") from error
        for name, reason in listing.refused:
            # A refused project fails alone; the others sync. The root is read in full again next
            # time (its validators are not kept), so the refusal is reported until it is fixed.
            self.run.projects_failed += 1
            self.state.fail(project=name, reason=f"refused: {reason}")
            self.progress.log(f"refused project {name[:250]!r}: {reason}")
        active = sum(1 for row in known.values() if not row.removed)
        if not listing.projects and active:
            raise SyncAborted(f"the upstream lists no projects; refusing to remove all {active}")
        serial = root.serial if root.serial is not None else listing.serial
        return serial, listing.projects

    # -- listings ----------------------------------------------------------------------------------

    def _remove_gone(self, rows: list[_Known], known: dict[str, _Known]) -> None:
        """Tombstone the projects gone upstream, unless that is most of the catalogue (the guard)."""
        active = sum(1 for row in known.values() if not row.removed)
        fraction = settings.SYNC_MAX_REMOVE_FRACTION
        if not self.allow_mass_removal and active >= MASS_REMOVAL_MIN_PROJECTS and len(rows) > fraction * active:
            # A truncated but valid root page must not empty the catalogue.
            reason = (
                f"mass removal guard: {len(rows)} of {active} projects are gone upstream, more than "
                f"SYNC_MAX_REMOVE_FRACTION={fraction:g}; none removed"
            )
            self.state.problems += 1
            self.state.fail(project="", reason=reason)
            self.state.message = f"{reason}. If they really are gone, run manage.py sync --allow-mass-removal"
            self.root_complete = False
            self.progress.log(self.state.message)
            return
        self._tombstone(rows)

    def _tombstone(self, rows: list[_Known]) -> None:
        """Projects gone upstream (or filtered out): tombstones without files."""
        if not rows:
            return
        ids = [row.id for row in rows]
        with transaction.atomic():
            serial = catalogue_next_serial()
            removed_files, _ = File.objects.filter(project_id__in=ids).delete()
            Project.objects.filter(id__in=ids).update(removed=True, change_serial=serial, updated_at=timezone.now())
        self.run.projects_removed += len(rows)
        self.run.files_removed += removed_files
        for row in rows[:20]:
            self.progress.log(f"project {row.name} is gone upstream: removed from the catalogue")

    def _fetch_projects(self, remotes: list[RemoteProject], known: dict[str, _Known]) -> None:
        self.progress.start("index", total_files=len(remotes), unit="pages")
        batch: list[_PageResult] = []
        flushed = time.monotonic()

        def fetch(remote: RemoteProject) -> _PageResult:
            return self._fetch_project(remote, known.get(remote.normalized_name))

        with ThreadPoolExecutor(settings.SYNC_INDEX_WORKERS, thread_name_prefix="sync-index") as pool:
            for result in self._bounded(pool, fetch, remotes, window=settings.SYNC_INDEX_WORKERS * 4):
                self.progress.add(files=1, bytes=len(result.page.body) if result.page else 0)
                if result.error:
                    self.run.projects_failed += 1
                    self.state.fail(project=result.remote.name, reason=result.error)
                    self.progress.log(f"index page of {result.remote.name} failed: {result.error}")
                    continue
                row = known.get(result.remote.normalized_name)
                if result.page is not None and result.page.not_modified and row is not None:
                    if result.remote.serial is None or result.remote.serial == row.last_serial:
                        continue  # nothing at all to write
                batch.append(result)
                if len(batch) >= FLUSH_EVERY_ITEMS or time.monotonic() - flushed >= FLUSH_EVERY_SECONDS:
                    self._apply_listings(batch, known)
                    batch, flushed = [], time.monotonic()
        self._apply_listings(batch, known)
        self.progress.finish()

    def _fetch_project(self, remote: RemoteProject, row: _Known | None) -> _PageResult:
        """Runs in an index thread: fetch (conditionally) and parse one project page."""
        conditional = row is not None and not row.removed
        try:
            page = retrying(
                self.client.limits,
                lambda: self.client.get_page(
                    remote.url,
                    etag=row.etag if conditional else "",
                    last_modified=row.last_modified if conditional else "",
                ),
                cancelled=self.cancel.is_set,
            )
        except FetchError as error:
            return _PageResult(remote, error=str(error))
        if page.not_modified:
            if not (conditional and (row.etag or row.last_modified)):
                return _PageResult(remote, error="answered 304 Not Modified to an unconditional request")
            return _PageResult(remote, page=page, unchanged=True)
        if conditional and page.sha256 == row.page_sha256:
            return _PageResult(remote, page=page, unchanged=True)
        try:
            listing = parse_project(
                page.body, content_type=page.content_type, base_url=page.url, allowed_schemes=self.allowed_schemes
            )
        except IndexFormatError as error:
            return _PageResult(remote, page=page, error=f"not a simple index page: {error}")
        return _PageResult(remote, page=page, listing=listing)

    def _apply_listings(self, results: list[_PageResult], known: dict[str, _Known]) -> None:
        """Write a batch of project pages to the catalogue in one transaction."""
        if not results:
            return
        now = timezone.now()
        with transaction.atomic():
            serial: int | None = None

            def next_serial() -> int:
                nonlocal serial
                if serial is None:
                    serial = catalogue_next_serial()
                return serial

            new_projects = [
                Project(
                    upstream=self.upstream,
                    name=result.remote.name,
                    normalized_name=result.remote.normalized_name,
                    url=result.remote.url,
                )
                for result in results
                if result.remote.normalized_name not in known and result.listing is not None
            ]
            if new_projects:
                Project.objects.bulk_create(new_projects, batch_size=500)
                for project in new_projects:
                    known[project.normalized_name] = _Known(
                        project.id, project.name, project.url, None, "", "", "", False
                    )
            with_listing = [r for r in results if r.listing is not None]
            existing_files: dict[int, dict[str, File]] = {}
            ids = [known[r.remote.normalized_name].id for r in with_listing]
            for start in range(0, len(ids), 500):
                for file in File.objects.filter(project_id__in=ids[start : start + 500]):
                    existing_files.setdefault(file.project_id, {})[file.filename] = file

            to_create: list[File] = []
            to_update: list[File] = []
            to_delete: list[int] = []
            project_updates: list[Project] = []
            for result in results:
                row = known[result.remote.normalized_name]
                page = result.page
                changed = False
                if result.listing is not None:
                    for name, reason in result.listing.refused:
                        self.run.files_failed += 1
                        self.state.fail(project=result.remote.name, filename=name, reason=f"refused: {reason}")
                        self.progress.log(f"refused {name!r} of {result.remote.name}: {reason}")
                    files = self.spec.select_files(result.listing.files)
                    changed = self._diff_files(
                        row.id, files, existing_files.get(row.id, {}), to_create, to_update, to_delete
                    )
                    changed = changed or row.removed or row.page_sha256 == ""
                if row.name != result.remote.name:
                    changed = True
                serial_now = self._page_serial(result)
                fresh_page = page is not None and page.status == 200
                update = Project(
                    id=row.id,
                    name=result.remote.name,
                    url=result.remote.url,
                    last_serial=serial_now if serial_now is not None else row.last_serial,
                    etag=_validator(page.etag, MAX_ETAG_LENGTH) if fresh_page else row.etag,
                    last_modified=_validator(page.last_modified, MAX_LAST_MODIFIED_LENGTH)
                    if fresh_page
                    else row.last_modified,
                    page_sha256=page.sha256 if fresh_page else row.page_sha256,
                    removed=False,
                    updated_at=now,
                )
                update.change_serial = next_serial() if changed else None
                if changed:
                    self.run.projects_changed += 1
                project_updates.append(update)
                row.name, row.url, row.removed = update.name, update.url, False
                row.last_serial, row.etag, row.last_modified = update.last_serial, update.etag, update.last_modified
                row.page_sha256 = update.page_sha256
            if to_delete:
                File.objects.filter(id__in=to_delete).delete()
            if to_create:
                File.objects.bulk_create(to_create, batch_size=500)
            if to_update:
                rows_update(File, _LISTING_FIELDS, to_update)
            plain = [p for p in project_updates if p.change_serial is None]
            bumped = [p for p in project_updates if p.change_serial is not None]
            base_fields = [
                "name",
                "url",
                "last_serial",
                "etag",
                "last_modified",
                "page_sha256",
                "removed",
                "updated_at",
            ]
            rows_update(Project, base_fields, plain)
            rows_update(Project, [*base_fields, "change_serial"], bumped)
        self.state.save()

    @staticmethod
    def _page_serial(result: _PageResult) -> int | None:
        if result.page is not None and result.page.serial is not None:
            return result.page.serial
        if result.listing is not None and result.listing.serial is not None:
            return result.listing.serial
        return result.remote.serial

    def _diff_files(
        self,
        project_id: int,
        remote_files: list[RemoteFile],
        existing: dict[str, File],
        to_create: list[File],
        to_update: list[File],
        to_delete: list[int],
    ) -> bool:
        """Compare one project's listing with its rows; returns whether anything changed."""
        changed = False
        listed = {remote.filename for remote in remote_files}
        for filename, row in existing.items():
            if filename not in listed:
                to_delete.append(row.id)
                self.run.files_removed += 1
                changed = True
        for remote in remote_files:
            row = existing.get(remote.filename)
            if row is None:
                to_create.append(
                    File(
                        project_id=project_id,
                        filename=remote.filename,
                        state=File.State.PENDING,
                        **_listing_values(remote, size_default=None),
                    )
                )
                self.run.files_new += 1
                changed = True
                continue
            values = _listing_values(remote, size_default=row.size)
            dirty = False
            if remote.sha256 and remote.sha256 != row.upstream_sha256 and remote.sha256 != row.sha256:
                # New content under the same name: fetch it again.
                row.state, row.failure_reason = File.State.PENDING, ""
                if row.sha256:
                    row.sha256 = ""
                    dirty = True
                dirty = True
            for name, value in values.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
                    dirty = True
            if dirty:
                to_update.append(row)
                self.run.files_updated += 1
                changed = True
        return changed

    # -- downloads ---------------------------------------------------------------------------------

    def _download_pending(self) -> None:
        rows = list(
            File.objects.filter(project__upstream=self.upstream, project__removed=False)
            .exclude(state=File.State.STORED)
            .values_list("id", "project_id", "filename", "url", "upstream_sha256", "size", "attempts", "project__name")
        )
        if not rows:
            return
        info = {row[0]: row for row in rows}
        jobs = [
            DownloadJob(file_id, filename, url, upstream_sha256, size)
            for file_id, _project, filename, url, upstream_sha256, size, _attempts, _name in rows
        ]
        pending_updates: list[DownloadResult] = []
        jobs = self._order_jobs(jobs)
        total_bytes = sum(job.expected_size or 0 for job in jobs)
        self.progress.start("download", total_files=len(jobs), total_bytes=total_bytes)
        tmp_dir = store_tmp_dir()
        tmp_dir.mkdir(parents=True, exist_ok=True)
        flushed = time.monotonic()

        def fetch(job: DownloadJob) -> DownloadResult:
            return download_to_store(
                self.client,
                job,
                tmp_dir=tmp_dir,
                on_bytes=lambda count: self.progress.add(bytes=count),
                cancelled=self.cancel.is_set,
                durable=settings.SYNC_FSYNC,
            )

        workers = settings.SYNC_DOWNLOAD_WORKERS
        with ThreadPoolExecutor(workers, thread_name_prefix="sync-download") as pool:
            for result in self._bounded(pool, fetch, jobs, window=workers * 2):
                self.progress.add(files=1)
                self.run.bytes_downloaded += result.bytes_read
                if not result.ok:
                    filename = info[result.key][2]
                    self.progress.log(f"failed {filename}: {result.reason}")
                pending_updates.append(result)
                if len(pending_updates) >= FLUSH_EVERY_ITEMS or time.monotonic() - flushed >= FLUSH_EVERY_SECONDS:
                    self._apply_downloads(pending_updates, info)
                    pending_updates, flushed = [], time.monotonic()
        self._apply_downloads(pending_updates, info)
        self.progress.finish()

    def _order_jobs(self, jobs: list[DownloadJob]) -> list[DownloadJob]:
        """Biggest first, so the last minutes are not one big file on one core.

        Where the index gives no sizes (PEP 503 HTML), ask for them with HEAD requests in parallel:
        one cheap request per file against a multi-second tail.
        """
        unknown = [job for job in jobs if job.expected_size is None]
        if len(unknown) > settings.SYNC_DOWNLOAD_WORKERS and settings.SYNC_PROBE_SIZES:
            sizes: dict[int, int] = {}

            def probe(job: DownloadJob) -> tuple[int, int | None]:
                return job.key, self.client.body_size(job.url)

            with ThreadPoolExecutor(settings.SYNC_INDEX_WORKERS, thread_name_prefix="sync-size") as pool:
                for key, size in self._bounded(pool, probe, unknown, window=settings.SYNC_INDEX_WORKERS * 4):
                    if size is not None:
                        sizes[key] = size
            hints = {job.key: sizes.get(job.key, 0) for job in unknown}
        else:
            hints = {}
        return sorted(jobs, key=lambda job: job.expected_size or hints.get(job.key, 0), reverse=True)

    def _apply_downloads(self, results: list[DownloadResult], info: dict[int, tuple[Any, ...]]) -> None:
        if not results:
            return
        now = timezone.now()
        updates: list[File] = []
        for result in results:
            row = info[result.key]
            attempts = row[6] + result.attempts
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
                self.run.files_downloaded += 1
                if result.attempts == 0:
                    self.state.adopted += 1
            else:
                updates.append(
                    File(
                        id=result.key,
                        state=File.State.FAILED,
                        sha256="",
                        size=row[5],
                        stored_at=None,
                        failure_reason=result.reason[:2000],
                        attempts=attempts,
                    )
                )
                self.run.files_failed += 1
                self.state.fail(project=row[7], filename=row[2], reason=result.reason)
        project_ids = {info[result.key][1] for result in results}
        with transaction.atomic():
            # Lock order of every catalogue writer (sync, verify): the serial row, then files, then projects.
            serial = catalogue_next_serial()
            rows_update(File, ["state", "sha256", "size", "stored_at", "failure_reason", "attempts"], updates)
            Project.objects.filter(id__in=project_ids).update(change_serial=serial, updated_at=now)
        self.state.save()

    # -- helpers -----------------------------------------------------------------------------------

    def _bounded(
        self, pool: ThreadPoolExecutor, func: Callable[[T], R], items: Iterable[T], *, window: int
    ) -> Iterator[R]:
        """pool.map with at most `window` items in flight, results as they complete, progress ticking."""
        iterator = iter(items)
        running: set[Future[R]] = set()
        try:
            while True:
                while len(running) < window:
                    try:
                        item = next(iterator)
                    except StopIteration:
                        break
                    running.add(pool.submit(func, item))
                if not running:
                    return
                done, running = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
                self.progress.tick()
        finally:
            if running:
                # Interrupted (Ctrl-C or an error): let workers stop at their next chunk.
                self.cancel.set()
                for future in running:
                    future.cancel()


_LISTING_FIELDS = [
    "version",
    "package_type",
    "url",
    "upstream_sha256",
    "sha256",
    "size",
    "upload_time",
    "requires_python",
    "yanked",
    "yanked_reason",
    "core_metadata_sha256",
    "attributes",
    "state",
    "failure_reason",
]


def _listing_values(remote: RemoteFile, *, size_default: int | None) -> dict[str, Any]:
    """The File fields that come from the index listing."""
    return {
        "version": remote.version,
        "package_type": remote.package_type,
        "url": remote.url,
        "upstream_sha256": remote.sha256,
        "size": remote.size if remote.size is not None else size_default,
        "upload_time": remote.upload_time,
        "requires_python": remote.requires_python,
        "yanked": remote.yanked,
        "yanked_reason": remote.yanked_reason,
        "core_metadata_sha256": remote.core_metadata_sha256,
        "attributes": remote.attributes,
    }
