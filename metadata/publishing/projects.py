"""The project pages of one publish: each chunk of names turned into links, pages, state rows and primary rows.

A chunk is `prepare`d (catalogue reads, each file's published form, the links it needs), its links are
made through TreeWrites (in this process, or by the helper of metadata.publishing.helper while this
process goes on with the next chunk), then it is `finish`ed (files whose links failed dropped, pages
staged, through TreeWrites too, rows written).
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass, field
from typing import Any

from metadata import selectors
from metadata.models import Collection
from metadata.publishing.helper import BatchOutcome, LinkFailure, LinkOrder, PageOrder, PublishHelper, run_batch
from metadata.publishing.linking import Linker
from metadata.publishing.primary import PrimaryDB, PrimaryRebuild
from metadata.publishing.render import PublishedFile, project_html, project_json
from metadata.publishing.state import PublishState
from metadata.publishing.tree import CollectionTree
from sync.engine.names import is_normalized_project_name
from sync.filters import FilterSpec

logger = logging.getLogger(__name__)

FATAL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)  # every later file would fail the same way


class TreeWrites:
    """The links and the staged pages of a publish's chunks: in this process until `start_helper`, then by
    the helper process. Links go a batch at a time (`send_links`, then `receive_links` before the next
    batch: the pages of a chunk depend on its links); pages are staged as they come, collected by `finish`."""

    def __init__(self, tree: CollectionTree) -> None:
        self.tree = tree
        self.helper: PublishHelper | None = None
        self._local: BatchOutcome | None = None  # the outcome of a batch linked here, until received
        self._refused: list[LinkFailure] = []
        self._pages: list[PageOrder] = []  # page orders for the helper, sent once per chunk

    def start_helper(self) -> None:
        self.helper = PublishHelper(self.tree.links, self.tree.pages)

    def send_links(self, orders: list[LinkOrder]) -> None:
        if self.helper is None:
            self._local = run_batch(self.tree.link_data_file, orders)
            return
        accepted = []
        for order in orders:
            try:
                self.tree.log_link(order.relative)
            except ValueError as error:
                self._refused.append(LinkFailure(order.relative, error))
            else:
                accepted.append(order)
        self.helper.send_links(accepted)

    def receive_links(self) -> BatchOutcome:
        if self._local is not None:
            outcome, self._local = self._local, None
            return outcome
        assert self.helper is not None
        outcome = self.helper.receive_links()
        refused, self._refused = self._refused, []
        return BatchOutcome(outcome.packages_linked, refused + outcome.failures)

    def stage_pages(self, relative_dir: str, pages: dict[str, bytes]) -> None:
        if self.helper is None:
            self.tree.stage_pages(relative_dir, pages)
        else:
            self._pages.append(self.tree.page_order(relative_dir, pages))

    def chunk_done(self) -> None:
        """Send the chunk's pages to the helper."""
        if self.helper is not None and self._pages:
            self.helper.send_pages(self._pages)
            self._pages = []

    def finish(self) -> None:
        """Once every chunk is done: the helper's pages counted as staged; the error that stopped them raised."""
        if self.helper is not None:
            outcome = self.helper.finish()
            self.tree.staged += outcome.staged
            if outcome.error is not None:
                raise outcome.error

    def close(self) -> None:
        if self.helper is not None:
            self.helper.close()
            self.helper = None


@dataclass
class PlannedProject:
    """One project of a prepared chunk: its catalogue winner (None: none left) and its files' published forms."""

    name: str
    winner: Any
    old_files: dict[str, tuple[str, str]]
    files: list[PublishedFile]
    published_before: bool
    valid: bool


@dataclass
class PreparedChunk:
    """A chunk of names, ready for its links to be made."""

    projects: list[PlannedProject] = field(default_factory=list)
    orders: list[LinkOrder] = field(default_factory=list)


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

    def _skipped(self, file: Any, reason: str) -> None:
        self.stats["files_skipped"] = self.stats.get("files_skipped", 0) + 1
        logger.error("%s: file %r not published: %s", self.collection.slug, file.filename, reason[:500])

    def _plan_file(self, file: Any, old: tuple[str, str] | None, orders: list[LinkOrder]) -> PublishedFile | None:
        """The linker's plan of one file; an error of the file system there (extracting its .metadata, say)
        skips the file, unless the disk is full or read-only."""
        try:
            entry = self.linker.plan_file(file, old, orders)
        except OSError as error:
            if error.errno in FATAL_ERRNOS:
                raise
            self._skipped(file, f"{type(error).__name__}: {error.strerror or error}")
            return None
        if entry is None:  # refused by the linker (unsafe name, missing blob): it logged why
            self.stats["files_skipped"] = self.stats.get("files_skipped", 0) + 1
        return entry

    def prepare(self, names: list[str], *, gone: bool = False) -> PreparedChunk:
        """Read these projects and plan their files (gone: they left the catalogue, only their old pages go)."""
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
        chunk = PreparedChunk()
        for name in names:
            self.stats["projects_visited"] += 1
            winner = winners.get(name)
            old_files = old.get(name, {})
            planned: list[PublishedFile] = []
            if winner is not None:
                for file in self.spec.select_files(files[winner.id]):
                    entry = self._plan_file(file, old_files.get(file.filename), chunk.orders)
                    if entry is not None:
                        planned.append(entry)
            chunk.projects.append(
                PlannedProject(name, winner, old_files, planned, name in published_before, name in valid)
            )
        return chunk

    def _linked(self, file: PublishedFile, failures: dict[str, LinkFailure]) -> bool:
        """Were the file's links made? A file the file system refuses (a name too long, say) is skipped and
        counted, never fatal to the collection. (Damaged wheels are handled in core_metadata.)"""
        for relative in (file.location, file.location + ".metadata"):
            failure = failures.get(relative)
            if failure is None:
                continue
            error = failure.error
            if isinstance(error, FileNotFoundError) and relative == file.location:
                self.linker.blob_missing(file)
                self.stats["files_skipped"] = self.stats.get("files_skipped", 0) + 1
            elif isinstance(error, OSError):
                self._skipped(file, f"{type(error).__name__}: {error.strerror or error}")
            else:  # a path the tree refuses
                self._skipped(file, f"{type(error).__name__}: {error}")
            return False
        return True

    def finish(self, chunk: PreparedChunk, outcome: BatchOutcome, writes: TreeWrites) -> None:
        """Once its links are made: stage the chunk's pages and write its rows. A full or read-only disk
        fails the publish."""
        for failure in outcome.failures:
            if isinstance(failure.error, OSError) and failure.error.errno in FATAL_ERRNOS:
                raise failure.error
        self.stats["files_linked"] += outcome.packages_linked
        failures = {failure.relative: failure for failure in outcome.failures}
        for project in chunk.projects:
            name, winner = project.name, project.winner
            published = [file for file in project.files if self._linked(file, failures)] if failures else project.files
            if not published:
                if project.published_before:
                    if project.valid:  # an invalid name (from an older state) has no pages of ours
                        self.deletions.extend([f"simple/{name}/index.html", f"simple/{name}/index.json"])
                    self.state.delete_project(name, project.old_files, self.now)
                    self.primary_db.delete_project(name)
                continue
            pages = {
                "index.html": project_html(winner.name, published),
                "index.json": project_json(name, winner.change_serial, published),
            }
            writes.stage_pages(f"simple/{name}", pages)
            serial = winner.change_serial
            if self.state.replace_project(name, winner.name, serial, published, project.old_files, self.now):
                self.primary_db.replace_project(name, winner.name, serial, published)
        writes.chunk_done()
