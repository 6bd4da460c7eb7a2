"""The commit protocol of a publish: `commit` a revision, and `recover` one that a crash interrupted.

A publish changes the state in one SQLite transaction, puts data files (packages, .metadata,
repodata) in the tree under content-addressed names, stages the changed pages, flushes all of it to
the disk, then commits the state's transaction with the journal row in it: the commit point (SQLite's
COMMIT is atomic and durable). Then it applies the journal: project pages renamed into place, then
the root pages, then removed pages unlinked, the Revision row written, repomd.json renamed last, all
of it flushed again before the journal row is deleted. Before the commit a crash (or a power loss)
leaves the previous revision whole, the state rolls back, and the next publish throws the staging
away; after, the next publish finishes applying it (`recover`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from core.fs import fsync_dir, fsync_file, sync_filesystem
from metadata.publishing.state import PublishState
from metadata.publishing.tree import REPOMD, CollectionTree, flat_name, unflat_name

logger = logging.getLogger(__name__)

ROOT_PAGES = ("simple/index.html", "simple/index.json")

# Stores the Revision row of a journal record (idempotent: recovery may repeat it); returns it.
RecordRevision = Callable[[dict], Any]


def commit(tree: CollectionTree, state: PublishState, record: dict, record_revision: RecordRevision) -> Any:
    """Commit the revision described by `record`, then switch the tree to it; what record_revision returned.

    Everything the revision needs (data files, links, staged pages) is flushed to the disk before
    the commit point: after a power loss the journal row never exists without what it refers to.
    """
    state.journal_set(record)
    tree.intent_close()
    sync_filesystem(tree.work)
    state.commit()  # the commit point
    result = _apply(tree, record, record_revision)
    state.journal_clear()
    _finish(tree, state)
    return result


def recover(tree: CollectionTree, record_revision: RecordRevision) -> None:
    """Finish a committed publish that crashed, or throw an uncommitted one away (call under the lock)."""
    if not tree.state_path.exists():
        tree.discard_work()
        return
    try:
        state = PublishState(tree.state_path)
    except sqlite3.DatabaseError:
        tree.discard_work()  # unreadable: the publish that follows starts afresh
        return
    try:
        record = state.journal_get()
        if record is not None:
            logger.warning(
                "%s: finishing the interrupted publish of revision %s", tree.slug, record["revision"]["number"]
            )
            _apply(tree, record, record_revision)
            state.journal_clear()
            _finish(tree, state)
            return
        linked = tree.discard_work()
        if linked:
            # Data files the crashed publish linked and nothing references: prune them later.
            state.garbage_add([path for path in linked if not state.referenced(path)], time.time())
            state.commit()
    finally:
        state.close()


def _apply(tree: CollectionTree, record: dict, record_revision: RecordRevision) -> Any:
    """Switch the tree to the journal's revision; idempotent, so a crash here is finished later.

    Order, so that a reader never follows a link to a page that is not there yet: project pages,
    then the root pages, then removed pages go; then the Revision row (so that a probe never
    meets a repomd.json the database does not know), then repomd.json, last.
    """
    repomd_flat = flat_name(REPOMD)
    root_flat = {flat_name(page) for page in ROOT_PAGES}
    staged: dict[str, bool] = {}  # flat name: is it a folder (a new project's pages, moved whole)
    with contextlib.suppress(FileNotFoundError), os.scandir(tree.staging) as entries:
        staged = {entry.name: entry.is_dir(follow_symlinks=False) for entry in entries}
    flat_names = sorted(staged)
    project_pages = [name for name in flat_names if name not in root_flat and name != repomd_flat]
    root_pages = [name for name in flat_names if name in root_flat]
    for flat in project_pages + root_pages:
        try:
            target = tree.path(unflat_name(flat))
        except ValueError:
            logger.error("%s: staged page %r is outside the tree: dropped", tree.slug, flat)
            continue
        if staged[flat]:
            tree.replace_folder(tree.staging / flat, target)
        else:
            tree.replace_page(tree.staging / flat, target)
    for relative in record.get("delete", []):
        try:
            target = tree.path(relative)
        except ValueError:
            logger.error("%s: deletion of %r is outside the tree: skipped", tree.slug, relative)
            continue
        target.unlink(missing_ok=True)
        try:
            target.parent.rmdir()
        except OSError:
            pass
    result = record_revision(record)
    repomd_staged = tree.staging / repomd_flat
    if repomd_staged.exists():
        fsync_file(repomd_staged)
        tree.replace_page(repomd_staged, tree.root / REPOMD)
        fsync_dir(tree.root / "repodata")
    return result


def _finish(tree: CollectionTree, state: PublishState) -> None:
    """After _apply: flush the switch to the disk, then commit the cleared journal row."""
    sync_filesystem(tree.work)
    state.commit()
    tree.intent_path.unlink(missing_ok=True)
    shutil.rmtree(tree.staging, ignore_errors=True)
