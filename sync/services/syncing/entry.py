"""The sync's entry points: every upstream, one upstream, and the steps of one run.

The main thread owns the database (SQLite allows one writer) and writes in batches; index pages
are fetched and parsed by one thread pool (listing), files downloaded and hashed by another
(downloading). A run is resumable at any point: listings are committed before downloads start, a
file becomes `stored` only after its verified blob was renamed into the store, and the next run
first adopts blobs that are already there.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from sync.blobstore import store_lock, store_tmp_clean
from sync.engine.http import Client, FetchError, file_tree_root, retrying
from sync.engine.index import RemoteProject
from sync.models import Project, StoreRun, Upstream
from sync.progress import Progress
from sync.services.client import client_limits, client_policy
from sync.services.runs import RunState, runs_fail_stale
from sync.services.syncing.context import Known, SyncAborted, SyncContext, validator
from sync.services.syncing.downloading import download_pending
from sync.services.syncing.listing import fetch_projects, remove_gone, root_listing
from sync.signals import catalogue_changed

logger = logging.getLogger("sync")


def sync_all(
    *,
    upstreams: Iterable[Upstream] | None = None,
    progress: Progress | None = None,
    allow_mass_removal: bool = False,
    on_run: Callable[[StoreRun], None] | None = None,
) -> list[StoreRun]:
    """Sync every enabled upstream (or these `upstreams`) in turn; queue one publication if anything changed.

    on_run: called with each finished run (the command prints its summary).
    Raises StoreBusy, having synced nothing more, when another sync (or verify --repair, or
    collect) holds the store: the hourly schedule meeting a long sync is not a failure.
    """
    if upstreams is None:
        upstreams = Upstream.objects.filter(enabled=True).order_by("name")
    runs: list[StoreRun] = []
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
) -> StoreRun:
    """Sync one upstream: listings into the catalogue, files into the store, a StoreRun row for admins.

    Never raises for upstream trouble: the run records it (outcome failed or partial). After a
    run that changed anything, publication is queued (unless publish=False).

    Raises StoreBusy, and records no run, when another sync, verify --repair or collect holds the
    store: the running one does the work, so a skipped start is neither a run nor a failure.
    allow_mass_removal: lift the SYNC_MAX_REMOVE_FRACTION guard for this run.
    """
    progress = progress or Progress()
    with store_lock():
        run = StoreRun.objects.create(upstream=upstream, kind=StoreRun.Kind.SYNC)
        state = RunState(run)
        try:
            # Holding the lock, no other run is alive: any still "running" died (kill -9, power loss).
            runs_fail_stale(kind=StoreRun.Kind.SYNC, current=run)
            removed = store_tmp_clean()
            if removed:
                progress.log(f"removed {removed} temporary files left by an interrupted run")
            local_roots = (file_tree_root(upstream.url),) if urlsplit(upstream.url).scheme == "file" else ()
            limits = client_limits()
            if settings.SYNC_RUN_DEADLINE:
                limits = dataclasses.replace(limits, run_deadline=time.monotonic() + settings.SYNC_RUN_DEADLINE)
            with Client(
                limits,
                pool_size=max(settings.SYNC_INDEX_WORKERS, settings.SYNC_DOWNLOAD_WORKERS),
                local_roots=local_roots,
                policy=client_policy(upstream.url),
            ) as client:
                ctx = SyncContext(upstream, state, client, progress, allow_mass_removal=allow_mass_removal)
                upstream_run(ctx)
            if ctx.stopped:
                # A clean stop (disk full, the run's deadline): what was stored is recorded, the
                # next run continues; the outcome says it did not complete.
                state.outcome = StoreRun.Outcome.FAILED
                state.message = ctx.stopped
        except SyncAborted as error:
            state.outcome = StoreRun.Outcome.FAILED
            state.message = str(error)
            progress.log(f"sync of {upstream.name} failed: {error}")
        except KeyboardInterrupt:
            state.outcome = StoreRun.Outcome.FAILED
            state.message = "interrupted"
            state.save(final=True)
            raise
        except Exception as error:  # a bug must not leave the run "running" for ever
            logger.exception("sync of %s crashed", upstream.name)
            state.outcome = StoreRun.Outcome.FAILED
            state.message = f"internal error: {type(error).__name__}: {error}"
        finally:
            progress.finish()
        state.save(final=True)
    if publish and run_changed(run):
        catalogue_changed_send(runs=[run])
    return run


def run_changed(run: StoreRun) -> bool:
    """Did this run change the catalogue (so publication has work)?"""
    return bool(
        run.files_new
        or run.files_updated
        or run.files_removed
        or run.files_downloaded
        or run.projects_changed
        or run.projects_removed
    )


def catalogue_changed_send(*, runs: list[StoreRun]) -> None:
    """Tell the higher apps that these runs changed the catalogue (metadata queues publication)."""
    catalogue_changed.send_robust(sender=StoreRun, runs=runs)


def upstream_run(ctx: SyncContext) -> None:
    """The steps of one run: the root page, the project pages, the downloads, then the root's validators."""
    limits = ctx.client.limits
    try:
        root = retrying(
            limits,
            lambda: ctx.client.get_page(
                ctx.upstream.url, etag=ctx.upstream.root_etag, last_modified=ctx.upstream.root_last_modified
            ),
        )
    except FetchError as error:
        raise SyncAborted(f"cannot read the upstream's root page: {error}") from error
    if root.not_modified and not (ctx.upstream.root_etag or ctx.upstream.root_last_modified):
        raise SyncAborted("the upstream's root page answered 304 Not Modified to an unconditional request")

    known = {
        row.normalized_name: Known(
            row.id,
            row.name,
            row.url,
            row.last_serial,
            row.etag,
            row.last_modified,
            row.page_sha256,
            row.removed,
        )
        for row in Project.objects.filter(upstream=ctx.upstream).only(
            "id", "name", "normalized_name", "url", "last_serial", "etag", "last_modified", "page_sha256", "removed"
        )
    }
    root_serial, listed = root_listing(ctx, root, known)
    serial_unchanged = root_serial is not None and root_serial == ctx.upstream.last_serial
    wanted = {name: remote for name, remote in listed.items() if ctx.spec.project_allowed(name)}
    remove_gone(ctx, [known[name] for name in known if name not in wanted and not known[name].removed], known)

    to_fetch: list[RemoteProject] = []
    if not serial_unchanged:
        for name, remote in wanted.items():
            row = known.get(name)
            fresh = (
                row is not None and not row.removed and remote.serial is not None and row.last_serial == remote.serial
            )
            if not fresh:
                to_fetch.append(remote)
    ctx.run.projects_checked = len(to_fetch)
    fetch_projects(ctx, to_fetch, known)
    ctx.check_deadline()
    if not ctx.stopped:
        download_pending(ctx)

    upstream = ctx.upstream
    # The root's validators and serial are only taken once every project page they cover was
    # read: otherwise the next run would see "unchanged" and skip the pages that failed.
    if not ctx.run.projects_failed and ctx.root_complete:
        if root.status == 200:
            upstream.root_etag = validator(root.etag, Upstream._meta.get_field("root_etag").max_length)
            upstream.root_last_modified = validator(
                root.last_modified, Upstream._meta.get_field("root_last_modified").max_length
            )
            upstream.root_sha256 = root.sha256
        if root_serial is not None:
            upstream.last_serial = root_serial
    upstream.last_synced_at = timezone.now()
    upstream.save(update_fields=["root_etag", "root_last_modified", "root_sha256", "last_serial", "last_synced_at"])
