"""After verify --repair: every published name of a repaired blob is linked to the new blob at once.

The repair writes a new inode for a damaged blob; the trees' hardlinks still hold the damaged one. Waiting
for the next publish would leave corrupt files served meanwhile (and a publish only visits changed
projects), so the names are found in each collection's publish state (what its tree holds) and replaced
now, each by a rename (a reader gets the old file or the new one, never a torn one).

No collection lock is taken: a publish running meanwhile links the same names to the same blob (both
ways end the same), and a name the publish has just pruned is not brought back (only existing names are
replaced).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from core.fs import is_sha256
from metadata.publishing.linking_inodes import relink_if_replaced, spares_forget
from metadata.publishing.render import package_location
from metadata.publishing.tree import CollectionTree, spares_root, work_root
from sync.blobstore import blob_path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelinkResult:
    """What a relink after a repair changed: tree files replaced, and names it could not replace."""

    replaced: int
    failed: int


def _published_names(tree: CollectionTree, sha256s: list[str]) -> list[tuple[str, str]]:
    """(sha256, filename) of every file of these blobs that the collection's committed state publishes."""
    connection = sqlite3.connect(f"file:{tree.state_path}?mode=ro", uri=True, timeout=30)
    try:
        marks = ",".join("?" * len(sha256s))
        return connection.execute(
            f"SELECT sha256, filename FROM files WHERE sha256 IN ({marks})",  # noqa: S608 - only placeholders
            sha256s,
        ).fetchall()
    finally:
        connection.close()


def published_blobs_relink(sha256s: Iterable[str]) -> RelinkResult:
    """Link every published name of these (repaired) blobs to the store's blob now, in every collection."""
    wanted = sorted({sha256 for sha256 in sha256s if is_sha256(sha256)})
    if not wanted:
        return RelinkResult(0, 0)
    spares = spares_root()
    work = work_root()
    tmp_dir = work / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    for sha256 in wanted:
        spares_forget(spares, blob_path(sha256), tmp_dir)  # copies of the damaged blob
    replaced = failed = 0
    slugs = sorted(path.parent.name for path in work.glob("*/state.sqlite"))
    for slug in slugs:
        tree = CollectionTree(slug)
        try:
            names = _published_names(tree, wanted)
        except sqlite3.Error as error:
            logger.error("%s: publish state unreadable, repaired blobs not re-linked: %s", slug, error)
            failed += 1
            continue
        for sha256, filename in names:
            try:
                target = tree.path(package_location(sha256, filename))
                if not target.exists():
                    continue
                if relink_if_replaced(blob_path(sha256), target, tmp_dir=tmp_dir, spares_root=spares, force=True):
                    replaced += 1
            except (OSError, ValueError) as error:
                logger.error("%s: %s not re-linked to its repaired blob: %s", slug, filename, error)
                failed += 1
    if replaced:
        logger.info("re-linked %s published files to %s repaired blobs", replaced, len(wanted))
    return RelinkResult(replaced, failed)
