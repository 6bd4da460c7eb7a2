"""Listing: the upstream's root page, projects gone upstream, and the project pages (fetched by a pool)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sync.engine.http import FetchError, Page, retrying
from sync.engine.index import IndexFormatError, RemoteProject, parse_project, parse_root
from sync.models import File, Project
from sync.services.catalogue import catalogue_next_serial
from sync.services.syncing.context import (
    Batch,
    Known,
    PageResult,
    SyncAborted,
    SyncContext,
)
from sync.services.syncing.diffing import apply_listings

logger = logging.getLogger("sync")

# The mass removal guard (SYNC_MAX_REMOVE_FRACTION) applies from this many listed projects on.
MASS_REMOVAL_MIN_PROJECTS = 20


def root_listing(ctx: SyncContext, root: Page, known: dict[str, Known]) -> tuple[int | None, dict[str, RemoteProject]]:
    if root.not_modified:
        # Same root as last time: the catalogue's projects are the listing; pages may still change.
        listed = {
            name: RemoteProject(row.name, name, row.url or urljoin(root.url, f"{name}/"), None)
            for name, row in known.items()
            if not row.removed
        }
        return ctx.upstream.last_serial, listed
    try:
        listing = parse_root(root.body, content_type=root.content_type, base_url=root.url)
    except IndexFormatError as error:
        raise SyncAborted(f"the upstream's root page is not a simple index: {error}") from error
    for name, reason in listing.refused:
        # A refused project fails alone; the others sync. The root is read in full again next
        # time (its validators are not kept), so the refusal is reported until it is fixed.
        ctx.run.projects_failed += 1
        ctx.state.fail(project=name, reason=f"refused: {reason}")
        ctx.progress.log(f"refused project {name[:250]!r}: {reason}")
    active = sum(1 for row in known.values() if not row.removed)
    if not listing.projects and active:
        raise SyncAborted(f"the upstream lists no projects; refusing to remove all {active}")
    serial = root.serial if root.serial is not None else listing.serial
    return serial, listing.projects


def remove_gone(ctx: SyncContext, rows: list[Known], known: dict[str, Known]) -> None:
    """Tombstone the projects gone upstream, unless that is most of the catalogue (the guard)."""
    active = sum(1 for row in known.values() if not row.removed)
    fraction = settings.SYNC_MAX_REMOVE_FRACTION
    if not ctx.allow_mass_removal and active >= MASS_REMOVAL_MIN_PROJECTS and len(rows) > fraction * active:
        # A truncated but valid root page must not empty the catalogue.
        reason = (
            f"mass removal guard: {len(rows)} of {active} projects are gone upstream, more than "
            f"SYNC_MAX_REMOVE_FRACTION={fraction:g}; none removed"
        )
        ctx.state.problems += 1
        ctx.state.fail(project="", reason=reason)
        ctx.state.message = f"{reason}. If they really are gone, run manage.py sync --allow-mass-removal"
        ctx.root_complete = False
        ctx.progress.log(ctx.state.message)
        return
    tombstone(ctx, rows)


def tombstone(ctx: SyncContext, rows: list[Known]) -> None:
    """Projects gone upstream (or filtered out): tombstones without files."""
    if not rows:
        return
    ids = [row.id for row in rows]
    with transaction.atomic():
        serial = catalogue_next_serial()
        removed_files, _ = File.objects.filter(project_id__in=ids).delete()
        Project.objects.filter(id__in=ids).update(removed=True, change_serial=serial, updated_at=timezone.now())
    ctx.run.projects_removed += len(rows)
    ctx.run.files_removed += removed_files
    for row in rows[:20]:
        ctx.progress.log(f"project {row.name} is gone upstream: removed from the catalogue")


def fetch_projects(ctx: SyncContext, remotes: list[RemoteProject], known: dict[str, Known]) -> None:
    ctx.progress.start("index", total_files=len(remotes), unit="pages")
    batch: Batch[PageResult] = Batch(lambda results: apply_listings(ctx, results, known))

    def fetch(remote: RemoteProject) -> PageResult:
        return fetch_project(ctx, remote, known.get(remote.normalized_name))

    with ThreadPoolExecutor(settings.SYNC_INDEX_WORKERS, thread_name_prefix="sync-index") as pool:
        for result in ctx.bounded(pool, fetch, remotes, window=settings.SYNC_INDEX_WORKERS * 4):
            ctx.progress.add(files=1, bytes=len(result.page.body) if result.page else 0)
            if result.error:
                ctx.run.projects_failed += 1
                ctx.state.fail(project=result.remote.name, reason=result.error)
                ctx.progress.log(f"index page of {result.remote.name} failed: {result.error}")
                continue
            row = known.get(result.remote.normalized_name)
            if result.page is not None and result.page.not_modified and row is not None:
                if result.remote.serial is None or result.remote.serial == row.last_serial:
                    continue  # nothing at all to write
            batch.add(result)
    batch.flush()
    ctx.progress.finish()


def fetch_project(ctx: SyncContext, remote: RemoteProject, row: Known | None) -> PageResult:
    """Runs in an index thread: fetch (conditionally) and parse one project page; never raises."""
    try:
        return _fetch_project(ctx, remote, row)
    except Exception as error:  # a parser bug or an unforeseen input: this project fails, the run goes on
        logger.exception("index page of %s", remote.name)
        return PageResult(remote, error=f"internal error: {type(error).__name__}: {str(error)[:300]}")


def _fetch_project(ctx: SyncContext, remote: RemoteProject, row: Known | None) -> PageResult:
    conditional = row is not None and not row.removed
    try:
        page = retrying(
            ctx.client.limits,
            lambda: ctx.client.get_page(
                remote.url,
                etag=row.etag if conditional else "",
                last_modified=row.last_modified if conditional else "",
            ),
            cancelled=ctx.cancel.is_set,
        )
    except FetchError as error:
        return PageResult(remote, error=str(error))
    if page.not_modified:
        if not (conditional and (row.etag or row.last_modified)):
            return PageResult(remote, error="answered 304 Not Modified to an unconditional request")
        return PageResult(remote, page=page, unchanged=True)
    if conditional and page.sha256 == row.page_sha256:
        return PageResult(remote, page=page, unchanged=True)
    try:
        listing = parse_project(
            page.body,
            content_type=page.content_type,
            base_url=page.url,
            allowed_schemes=ctx.allowed_schemes,
            max_links=ctx.client.limits.max_links_per_page,
        )
    except IndexFormatError as error:
        return PageResult(remote, page=page, error=f"not a simple index page: {error}")
    return PageResult(remote, page=page, listing=listing)
