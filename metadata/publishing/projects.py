"""The project pages of one publish: each chunk of names turned into pages, state rows and primary rows."""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass
from typing import Any

from metadata import selectors
from metadata.models import Collection
from metadata.publishing.linking import Linker
from metadata.publishing.primary import PrimaryDB, PrimaryRebuild
from metadata.publishing.render import PublishedFile, project_html, project_json
from metadata.publishing.state import PublishState
from metadata.publishing.tree import CollectionTree
from sync.engine.names import is_normalized_project_name
from sync.filters import FilterSpec

logger = logging.getLogger(__name__)


@dataclass
class ProjectPages:
    """What every chunk of one publish shares; `deletions` collects the pages to remove at the switch."""

    tree: CollectionTree
    linker: Linker
    stats: dict[str, int]
    collection: Collection
    state: PublishState
    primary_db: PrimaryDB | PrimaryRebuild
    spec: FilterSpec
    full: bool
    now: float  # when data files became garbage (the grace period counts from here)
    deletions: list[str]

    def _publish_file(self, file: Any, old: tuple[str, str] | None) -> PublishedFile | None:
        """One file into the tree; a file the file system refuses (a name too long, say) is skipped and
        counted, never fatal to the collection. A full or read-only disk still fails the publish: every
        later file would fail the same way. (Damaged wheels are handled in core_metadata.)"""
        try:
            entry = self.linker.publish_file(file, old)
            if entry is None:  # refused by the linker (unsafe name, missing blob): it logged why
                self.stats["files_skipped"] = self.stats.get("files_skipped", 0) + 1
            return entry
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                raise
            self._skipped(file, f"{type(error).__name__}: {error.strerror or error}")
        except ValueError as error:  # e.g. a path the tree refuses
            self._skipped(file, f"{type(error).__name__}: {error}")
        return None

    def _skipped(self, file: Any, reason: str) -> None:
        self.stats["files_skipped"] = self.stats.get("files_skipped", 0) + 1
        logger.error("%s: file %r not published: %s", self.collection.slug, file.filename, reason[:500])

    def publish(self, names: list[str], *, gone: bool = False) -> None:
        """Publish these projects (gone: they left the catalogue, only their old pages go)."""
        old = self.state.old_files(names)
        published_before = self.state.published_names(names)
        if self.full:
            self.state.touch(names)
        valid = set(names)
        for name in names:
            if not is_normalized_project_name(name):
                # A name that is not a normalized PEP 503 name would become a path and HTML as is.
                logger.error("%s: project name %r is not a normalized name: not published", self.collection.slug, name)
                valid.discard(name)
        allowed = [] if gone else [name for name in names if name in valid and self.spec.project_allowed(name)]
        winners = selectors.catalogue_winners(allowed, upstream_id=self.collection.upstream_id) if allowed else {}
        files = selectors.catalogue_stored_files([w.id for w in winners.values()]) if winners else {}
        for name in names:
            self.stats["projects_visited"] += 1
            winner = winners.get(name)
            old_files = old.get(name, {})
            published: list[PublishedFile] = []
            if winner is not None:
                for file in self.spec.select_files(files[winner.id]):
                    entry = self._publish_file(file, old_files.get(file.filename))
                    if entry is not None:
                        published.append(entry)
            if not published:
                if name in published_before:
                    if name in valid:  # an invalid name (from an older state) has no pages of ours
                        self.deletions.extend([f"simple/{name}/index.html", f"simple/{name}/index.json"])
                    self.state.delete_project(name, old_files, self.now)
                    self.primary_db.delete_project(name)
                continue
            pages = {
                "index.html": project_html(winner.name, published),
                "index.json": project_json(name, winner.change_serial, published),
            }
            self.tree.stage_pages(f"simple/{name}", pages)
            if self.state.replace_project(name, winner.name, winner.change_serial, published, old_files, self.now):
                self.primary_db.replace_project(name, winner.name, winner.change_serial, published)
