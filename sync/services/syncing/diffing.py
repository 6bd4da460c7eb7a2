"""Diffing: one batch of project pages against their catalogue rows, written in one transaction."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from sync.engine.index import RemoteFile
from sync.models import File, Project
from sync.records import FILE_RECORD_FIELDS
from sync.services.bulk import rows_update
from sync.services.catalogue import catalogue_next_serial
from sync.services.syncing.context import Known, PageResult, SyncContext, validator

# HTTP validators longer than their column are dropped (the next request is then unconditional).
MAX_ETAG_LENGTH = Project._meta.get_field("etag").max_length
MAX_LAST_MODIFIED_LENGTH = Project._meta.get_field("last_modified").max_length


# Refusals logged per project page; the rest are counted in one line (a page may refuse thousands).
LOGGED_REFUSALS = 5
_COUNTERS = ("projects_changed", "files_failed", "files_new", "files_updated", "files_removed")


def apply_listings(ctx: SyncContext, results: list[PageResult], known: dict[str, Known]) -> None:
    """Write a batch of project pages to the catalogue in one transaction.

    A batch the database refuses is written again one project at a time, so that only the project
    it cannot store fails (with the database's reason); the others are kept.
    """
    if not results:
        return
    saved = _snapshot(ctx, results, known)
    try:
        _apply(ctx, results, known)
    except DatabaseError as error:
        _restore(ctx, known, saved)
        if len(results) > 1:
            for result in results:
                apply_listings(ctx, [result], known)
            return
        result = results[0]
        ctx.run.projects_failed += 1
        reason = f"the catalogue refused its listing ({type(error).__name__}: {str(error)[:300]})"
        ctx.state.fail(project=result.remote.name, reason=reason)
        ctx.progress.log(f"index page of {result.remote.name} failed: {reason}")
    ctx.state.save()


def _snapshot(ctx: SyncContext, results: list[PageResult], known: dict[str, Known]) -> dict[str, Any]:
    names = {result.remote.normalized_name for result in results}
    return {
        "known": {name: dataclasses.replace(known[name]) if name in known else None for name in names},
        "counters": {name: getattr(ctx.run, name) for name in _COUNTERS},
        "failures": len(ctx.run.failures),
        "failures_total": ctx.state.failures_total,
    }


def _restore(ctx: SyncContext, known: dict[str, Known], saved: dict[str, Any]) -> None:
    """Undo what a rolled-back batch did to the run's memory (rows it created no longer exist)."""
    for name, row in saved["known"].items():
        if row is None:
            known.pop(name, None)
        else:
            known[name] = row
    for name, value in saved["counters"].items():
        setattr(ctx.run, name, value)
    del ctx.run.failures[saved["failures"] :]
    ctx.state.failures_total = saved["failures_total"]


def _apply(ctx: SyncContext, results: list[PageResult], known: dict[str, Known]) -> None:
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
                upstream=ctx.upstream,
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
                known[project.normalized_name] = Known(project.id, project.name, project.url, None, "", "", "", False)
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
                refused = result.listing.refused
                for index, (name, reason) in enumerate(refused):
                    ctx.run.files_failed += 1
                    ctx.state.fail(project=result.remote.name, filename=name, reason=f"refused: {reason}")
                    if index < LOGGED_REFUSALS:
                        ctx.progress.log(f"refused {name[:300]!r} of {result.remote.name}: {reason[:500]}")
                if len(refused) > LOGGED_REFUSALS:
                    ctx.progress.log(f"… and {len(refused) - LOGGED_REFUSALS} more refused on {result.remote.name}")
                files = ctx.spec.select_files(result.listing.files)
                changed = diff_files(
                    ctx, row.id, files, existing_files.get(row.id, {}), to_create, to_update, to_delete
                )
                changed = changed or row.removed or row.page_sha256 == ""
            if row.name != result.remote.name:
                changed = True
            serial_now = page_serial(result)
            fresh_page = page is not None and page.status == 200
            update = Project(
                id=row.id,
                name=result.remote.name,
                url=result.remote.url,
                last_serial=serial_now if serial_now is not None else row.last_serial,
                etag=validator(page.etag, MAX_ETAG_LENGTH) if fresh_page else row.etag,
                last_modified=validator(page.last_modified, MAX_LAST_MODIFIED_LENGTH)
                if fresh_page
                else row.last_modified,
                page_sha256=page.sha256 if fresh_page else row.page_sha256,
                removed=False,
                updated_at=now,
            )
            update.change_serial = next_serial() if changed else None
            if changed:
                ctx.run.projects_changed += 1
            project_updates.append(update)
            row.name, row.url, row.removed = update.name, update.url, False
            row.last_serial, row.etag, row.last_modified = update.last_serial, update.etag, update.last_modified
            row.page_sha256 = update.page_sha256
        if to_delete:
            File.objects.filter(id__in=to_delete).delete()
        if to_create:
            File.objects.bulk_create(to_create, batch_size=500)
        if to_update:
            rows_update(File, LISTING_FIELDS, to_update)
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


def page_serial(result: PageResult) -> int | None:
    if result.page is not None and result.page.serial is not None:
        return result.page.serial
    if result.listing is not None and result.listing.serial is not None:
        return result.listing.serial
    return result.remote.serial


def diff_files(
    ctx: SyncContext,
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
            ctx.run.files_removed += 1
            changed = True
    for remote in remote_files:
        row = existing.get(remote.filename)
        if row is None:
            to_create.append(
                File(
                    project_id=project_id,
                    filename=remote.filename,
                    state=File.State.PENDING,
                    **listing_values(remote, size_default=None),
                )
            )
            ctx.run.files_new += 1
            changed = True
            continue
        values = listing_values(remote, size_default=row.size)
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
            ctx.run.files_updated += 1
            changed = True
    return changed


# The index's record of a file, by File column: its sha256 is the upstream's (ours is the blob's,
# set once it is stored); the filename is the row's key.
_LISTED = {name: ("upstream_sha256" if name == "sha256" else name) for name in FILE_RECORD_FIELDS if name != "filename"}
_LISTED.update(url="url", attributes="attributes")

# Every File column a listing can change (a changed hash also resets sha256, state and failure_reason).
LISTING_FIELDS = [*_LISTED.values(), "sha256", "state", "failure_reason"]


def listing_values(remote: RemoteFile, *, size_default: int | None) -> dict[str, Any]:
    """The File fields that come from the index listing."""
    values = {column: getattr(remote, name) for name, column in _LISTED.items()}
    if remote.size is None:
        values["size"] = size_default
    return values
