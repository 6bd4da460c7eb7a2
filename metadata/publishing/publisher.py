"""One publish of one collection: catalogue -> tree, incremental or full, committed atomically.

The orchestration; linking files, repodata and the commit protocol (metadata.publishing.commit) are
modules of their own. docs/publishing.md describes the tree.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import Any

from metadata import selectors
from metadata.models import Collection
from metadata.publishing.commit import commit, recover
from metadata.publishing.core_metadata import (
    metadata_tmp_clean,
)
from metadata.publishing.garbage import garbage_prune
from metadata.publishing.helper import PROCESS_MIN_NAMES
from metadata.publishing.linking import Linker
from metadata.publishing.linking_inodes import spares_prune
from metadata.publishing.parts import PARTS_FORMAT, ProjectParts
from metadata.publishing.primary import PrimaryDB, PrimaryRebuild
from metadata.publishing.projects import PreparedChunk, ProjectPages, TreeWrites
from metadata.publishing.repodata import members_data_write, primary_db_write, repomd_bytes, timestamp_now
from metadata.publishing.state import BASE_KEYS, DATA_KEYS, SCHEMA_VERSION, PublishState
from metadata.publishing.tree import REPOMD, CollectionTree, spares_root
from metadata.publishing.updates import rebase_due, updates_db_write, updates_json_write
from sync.filters import FilterSpec

logger = logging.getLogger(__name__)

CHUNK_NAMES = 500  # project names per catalogue query: bounded memory, few round trips


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class Publisher:
    """Publishes one collection. Use through metadata.services.collection_publish."""

    def __init__(
        self,
        collection: Collection,
        *,
        full: bool,
        record_revision: Callable[[Collection, dict], Any],
        record_unchanged: Callable[[Collection, int], None] | None = None,
    ) -> None:
        """record_revision stores a committed revision; record_unchanged the catalogue serial a publish
        that changed nothing has seen (both in metadata.services: the only writers of Collection rows)."""
        self.collection = collection
        self.requested_full = full
        self.record_revision = record_revision
        self.record_unchanged = record_unchanged
        self.tree = CollectionTree(collection.slug)
        self.stats = {
            "projects_visited": 0,
            "pages_staged": 0,
            "pages_deleted": 0,
            "files_linked": 0,
            "files_skipped": 0,
        }
        self.linker = Linker(self.tree)
        self.timings: dict[str, float] = {}  # seconds of each stage (the benchmark prints them)

    # -- entry point --------------------------------------------------------------------------

    def run(self) -> Any:
        """Publish; raises metadata.publishing.tree.PublishBusy at once if another publish runs."""
        spec = self.collection.filter_spec()
        tree = self.tree
        with tree.lock():
            metadata_tmp_clean()
            tree.clean_temporaries()
            self.recover()
            self.collection.refresh_from_db()
            result = self._publish(spec)
            garbage_prune(tree)
            spares_prune(spares_root())
            return result

    def _record(self, record: dict) -> Any:
        return self.record_revision(self.collection, record)

    def recover(self) -> None:
        """Finish a committed publish that crashed, or throw an uncommitted one away."""
        recover(self.tree, self._record)

    # -- the publish --------------------------------------------------------------------------

    def _publish(self, spec: FilterSpec) -> Any:
        tree = self.tree
        started = time.monotonic()
        now = time.time()  # when data files became garbage (the grace period counts from here)
        serial_now = selectors.catalogue_serial()
        previous_repomd = tree.read_repomd()
        fresh = previous_repomd is None or not tree.state_path.exists()
        if fresh:
            tree.state_remove()
        try:
            state = PublishState(tree.state_path)
        except sqlite3.DatabaseError:
            logger.warning("%s: unreadable publish state, publishing in full", self.collection.slug)
            tree.state_remove()
            state, fresh = PublishState(tree.state_path), True
        try:
            return self._publish_in(state, spec, fresh, previous_repomd or {}, started, now, serial_now)
        finally:
            state.close()  # rolls back whatever was not committed

    def _publish_in(
        self,
        state: PublishState,
        spec: FilterSpec,
        fresh: bool,
        previous_repomd: dict,
        started: float,
        now: float,
        serial_now: int,
    ) -> Any:
        tree = self.tree
        primary_db: PrimaryDB | PrimaryRebuild
        if fresh or state.meta_get("primary_db_marker") != PrimaryDB.marker(tree.primary_db_path):
            # Empty, missing, or changed by a publish that crashed before its commit point: made whole
            # from the state once this publish has changed it.
            primary_db = PrimaryRebuild(state, tree.primary_db_path, self.collection.slug)
        else:
            primary_db = PrimaryDB(tree.primary_db_path)
        try:
            spec_key = json.dumps(
                {"filters": spec.to_dict(), "upstream": self.collection.upstream_id, "schema": SCHEMA_VERSION},
                sort_keys=True,
            )
            full = self.requested_full or fresh or state.meta_get("spec") != spec_key
            tree.reset_staging()
            deletions: list[str] = []
            last_serial = int(state.meta_get("last_serial") or 0)

            names = selectors.catalogue_names(
                upstream_id=self.collection.upstream_id,
                since_serial=None if full else self.collection.published_serial,
            )
            projects = ProjectPages(
                self.tree, self.linker, self.stats, self.collection, state, primary_db, spec, full, now, deletions
            )
            serials: list[int] = []

            def visited(chunks: Iterable[list[tuple[str, int]]]) -> Iterator[list[str]]:
                for chunk in chunks:
                    serials.append(max(serial for _, serial in chunk))
                    yield [name for name, _ in chunk]

            self._visit(projects, visited(_batched(names, CHUNK_NAMES)))
            if full:
                self._visit(projects, _batched(state.untouched_names(), CHUNK_NAMES), gone=True)
            last_serial = max([last_serial, *serials])
            if full:
                for name in tree.page_names_on_disk():
                    if not state.has_project(name):
                        deletions.extend([f"simple/{name}/index.html", f"simple/{name}/index.json"])
            primary_db_marker = primary_db.commit()
        finally:
            primary_db.close()

        state.updated_add(state.changed_names)
        counts = state.counts(recount=full)
        previous_data = previous_repomd.get("data", {})

        def kept(key: str) -> bool:
            """Is the previous revision's data file of this key the state's, and still in the tree?"""
            location = (previous_data.get(key) or {}).get("location")
            return location == state.meta_get(key) and tree.data_file_exists(location or "")

        base = {key: previous_data.get(key) or {} for key in BASE_KEYS}
        base_kept = all(kept(key) for key in BASE_KEYS)
        # A full publish rebases too, unless nothing changed since the base (it would write the same bytes).
        updated = state.updated_count()
        rebase = not base_kept or (updated > 0 and (full or rebase_due(updated=updated, projects=counts["projects"])))
        self.stats["rebased"] = rebase

        # primary.sqlite is committed, and nothing changes it until the next publish: on a rebase it is
        # compressed on a thread of its own while the parts, the root pages and primary.json are built
        # (zlib and hashlib release the GIL; both cores work). Between rebases the base stays as it is.
        self.timings["projects"] = round(time.monotonic() - started, 3)
        marked = time.monotonic()
        with ThreadPoolExecutor(max_workers=1) as db_pool:
            primary_db_future = db_pool.submit(self._write_primary_db) if rebase else None
            # The root pages and primary.json come from cached parts: only the ranges that changed are rebuilt.
            parts = ProjectParts(state.conn)
            parts.refresh(None if full else state.changed_names, state.meta_get("parts"))
            self.timings["parts"] = round(time.monotonic() - marked, 3)
            marked = time.monotonic()
            self.stats["parts_rebuilt"] = parts.rebuilt
            # The PEP 503 root page lists names only: between publishes that add, remove or rename no project
            # it stays the same bytes (13 MB to assemble, write and compare at 300,000 projects).
            # A full publish compares it anyway.
            if full or state.listing_changed or not tree.data_file_exists("simple/index.html"):
                tree.stage_stream("simple/index.html", parts.root_html_chunks())
            tree.stage_stream("simple/index.json", parts.root_json_chunks(last_serial))
            state.meta_set("parts", PARTS_FORMAT)
            state.meta_set("spec", spec_key)
            state.meta_set("last_serial", str(last_serial))
            state.meta_set("primary_db_marker", primary_db_marker)

            unchanged = (
                not rebase
                and tree.staged == 0
                and not deletions
                and state.changed == 0
                and all(kept(key) for key in DATA_KEYS)
            )
            if unchanged:  # (then primary_db_future is None: no rebase)
                # The tree already is what this publish would write: keep the state (its meta may
                # be newer), make no revision.
                state.commit()
                tree.discard_work()
                if self.record_unchanged is not None:
                    self.record_unchanged(self.collection, serial_now)
                logger.info("%s: nothing changed", self.collection.slug)
                return None

            slug = self.collection.slug
            # primary.json and the updates read the state's uncommitted transaction: written on this thread.
            if primary_db_future is not None:
                state.updated_clear()
                primary = members_data_write(tree, "primary.json.gz", lambda out: parts.write_primary_gz(out, slug))
                primary_db = primary_db_future.result()
            else:
                primary, primary_db = base["primary"], base["primary_db"]
            data = {
                "primary": primary,
                "primary_db": primary_db,
                "primary_updates": updates_json_write(tree, state, slug, primary["sha256"]),
                "primary_db_updates": updates_db_write(tree, state, slug, primary_db["sha256"]),
            }
            self.timings["repodata"] = round(time.monotonic() - marked, 3)
            marked = time.monotonic()

            for key, entry in data.items():
                old = state.meta_get(key)
                if old and old != entry["location"]:
                    state.garbage_add([old], now)
                state.meta_set(key, entry["location"])

            number = self._next_revision_number()
            # Taken at commit, once every data file is written: probes compare it with mirrors' copies.
            timestamp = timestamp_now()
            repomd = repomd_bytes(
                slug=slug,
                number=number,
                timestamp=timestamp,
                upstream_serial=last_serial,
                counts=counts,
                data=data,
            )
            tree.stage(REPOMD, repomd)
            self.stats["pages_staged"] = tree.staged
            self.stats["pages_deleted"] = len(deletions) // 2
            record = {
                "revision": {
                    "number": number,
                    "repomd_sha256": hashlib.sha256(repomd).hexdigest(),
                    "timestamp": timestamp,
                    "upstream_serial": last_serial,
                    "counts": counts,
                    "full": full,
                    "duration_seconds": round(time.monotonic() - started, 3),
                },
                "published_serial": serial_now,
                "delete": deletions,
            }
            logger.info("%s: committing revision %s (%s)", self.collection.slug, number, self.stats)
            try:
                return commit(tree, state, record, self._record)
            finally:
                self.timings["commit"] = round(time.monotonic() - marked, 3)

    def _visit(self, projects: ProjectPages, chunks: Iterable[list[str]], *, gone: bool = False) -> None:
        """Publish these chunks of names, each prepared while the links of the one before are made; a
        publish that reaches PROCESS_MIN_NAMES names has its links and pages made by the helper process
        from then on."""
        writes = TreeWrites(self.tree)
        pending: PreparedChunk | None = None
        names = 0
        try:
            for chunk in chunks:
                if writes.helper is None and names >= PROCESS_MIN_NAMES:
                    writes.start_helper()
                prepared = projects.prepare(chunk, gone=gone)
                if pending is None:
                    writes.send_links(prepared.orders)
                else:  # the answer for the chunk before comes first: then the helper links this one meanwhile
                    outcome = writes.receive_links()
                    writes.send_links(prepared.orders)
                    projects.finish(pending, outcome, writes)
                pending = prepared
                names += len(chunk)
            if pending is not None:
                projects.finish(pending, writes.receive_links(), writes)
            writes.finish()
        finally:
            writes.close()

    def _next_revision_number(self) -> int:
        numbers = self.collection.revisions.order_by("-number").values_list("number", flat=True)
        return max(self.collection.revision, numbers.first() or 0) + 1

    def _write_primary_db(self) -> dict:
        return primary_db_write(self.tree, self.stats)
