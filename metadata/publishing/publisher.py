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

from django.conf import settings

from metadata import selectors
from metadata.models import Collection
from metadata.publishing.commit import commit, recover
from metadata.publishing.core_metadata import (
    metadata_tmp_clean,
)
from metadata.publishing.linking import Linker
from metadata.publishing.render import (
    PublishedFile,
    project_html,
    project_json,
    root_html_chunks,
    root_json_chunks,
)
from metadata.publishing.repodata import gzip_data_write, primary_db_write, repomd_bytes, timestamp_now
from metadata.publishing.state import SCHEMA_VERSION, PrimaryDB, PublishState, export_primary_sqlite
from metadata.publishing.tree import REPOMD, CollectionTree
from sync.engine.names import is_normalized_project_name
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
        self.stats = {"projects_visited": 0, "pages_staged": 0, "pages_deleted": 0, "files_linked": 0}
        self.linker = Linker(self.tree, self.stats)

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
            self.prune()
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
        if state.meta_get("primary_db_marker") != PrimaryDB.marker(tree.primary_db_path) or fresh:
            # Missing, or changed by a publish that crashed before its commit point: rebuild it
            # from the committed state (the state's transaction has written nothing yet).
            export_primary_sqlite(tree.state_path, tree.primary_db_path, self.collection.slug)
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
            for chunk in _batched(names, CHUNK_NAMES):
                last_serial = max(last_serial, max(serial for _, serial in chunk))
                self._publish_chunk([name for name, _ in chunk], state, primary_db, spec, full, deletions, now)
            if full:
                for chunk in _batched(state.untouched_names(), CHUNK_NAMES):
                    self._publish_chunk(chunk, state, primary_db, spec, full, deletions, now, gone=True)
                for name in tree.page_names_on_disk():
                    if not state.has_project(name):
                        deletions.extend([f"simple/{name}/index.html", f"simple/{name}/index.json"])
            primary_db_marker = primary_db.commit()
        finally:
            primary_db.close()

        tree.stage_stream("simple/index.html", root_html_chunks(state.iter_projects()))
        tree.stage_stream("simple/index.json", root_json_chunks(state.iter_projects(), last_serial))
        state.meta_set("spec", spec_key)
        state.meta_set("last_serial", str(last_serial))
        state.meta_set("primary_db_marker", primary_db_marker)

        previous_data = previous_repomd.get("data", {})
        unchanged = (
            not fresh
            and tree.staged == 0
            and not deletions
            and state.changed == 0
            and all(
                previous_data.get(key, {}).get("location") == state.meta_get(key)
                and tree.data_file_exists(state.meta_get(key) or "")
                for key in ("primary", "primary_db")
            )
        )
        if unchanged:
            # The tree already is what this publish would write: keep the state (its meta may
            # be newer), make no revision.
            state.commit()
            tree.discard_work()
            if self.record_unchanged is not None:
                self.record_unchanged(self.collection, serial_now)
            logger.info("%s: nothing changed", self.collection.slug)
            return None

        slug = self.collection.slug
        # The two repodata files are built at once: zlib and hashlib release the GIL. primary.json
        # reads the state's uncommitted transaction, so it is written on this thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            primary_db_future = pool.submit(self._write_primary_db)
            primary = gzip_data_write(tree, "primary.json.gz", lambda out: state.write_primary_json(out, slug))
            primary_db = primary_db_future.result()

        for key, entry in (("primary", primary), ("primary_db", primary_db)):
            old = state.meta_get(key)
            if old and old != entry["location"]:
                state.garbage_add([old], now)
            state.meta_set(key, entry["location"])
        counts = state.counts()

        number = self._next_revision_number()
        # Taken at commit, once every data file is written: probes compare it with mirrors' copies.
        timestamp = timestamp_now()
        repomd = repomd_bytes(
            slug=slug,
            number=number,
            timestamp=timestamp,
            upstream_serial=last_serial,
            counts=counts,
            data={"primary": primary, "primary_db": primary_db},
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
        return commit(tree, state, record, self._record)

    def _next_revision_number(self) -> int:
        numbers = self.collection.revisions.order_by("-number").values_list("number", flat=True)
        return max(self.collection.revision, numbers.first() or 0) + 1

    def _publish_chunk(
        self,
        names: list[str],
        state: PublishState,
        primary_db: PrimaryDB,
        spec: FilterSpec,
        full: bool,
        deletions: list[str],
        now: float,
        *,
        gone: bool = False,
    ) -> None:
        old = state.old_files(names)
        published_before = state.published_names(names)
        if full:
            state.touch(names)
        valid = set(names)
        for name in names:
            if not is_normalized_project_name(name):
                # A name that is not a normalized PEP 503 name would become a path and HTML as is.
                logger.error("%s: project name %r is not a normalized name: not published", self.collection.slug, name)
                valid.discard(name)
        allowed = [] if gone else [name for name in names if name in valid and spec.project_allowed(name)]
        winners = selectors.catalogue_winners(allowed, upstream_id=self.collection.upstream_id) if allowed else {}
        files = selectors.catalogue_stored_files([w.id for w in winners.values()]) if winners else {}
        for name in names:
            self.stats["projects_visited"] += 1
            winner = winners.get(name)
            old_files = old.get(name, {})
            published: list[PublishedFile] = []
            if winner is not None:
                for file in spec.select_files(files[winner.id]):
                    entry = self.linker.publish_file(file, old_files.get(file.filename))
                    if entry is not None:
                        published.append(entry)
            if not published:
                if name in published_before:
                    if name in valid:  # an invalid name (from an older state) has no pages of ours
                        deletions.extend([f"simple/{name}/index.html", f"simple/{name}/index.json"])
                    state.delete_project(name, old_files, now)
                    primary_db.delete_project(name)
                continue
            self.tree.stage(f"simple/{name}/index.html", project_html(winner.name, published))
            self.tree.stage(f"simple/{name}/index.json", project_json(name, winner.change_serial, published))
            if state.replace_project(name, winner.name, winner.change_serial, published, old_files, now):
                primary_db.replace_project(name, winner.name, winner.change_serial, published)

    def _write_primary_db(self) -> dict:
        return primary_db_write(self.tree)

    # -- pruning ------------------------------------------------------------------------------

    def prune(self) -> int:
        """Remove data files unreferenced for longer than PUBLISH_GRACE_SECONDS."""
        if not self.tree.state_path.exists():
            return 0
        cutoff = time.time() - settings.PUBLISH_GRACE_SECONDS
        state = PublishState(self.tree.state_path)
        removed = 0
        try:
            for path in state.garbage_due(cutoff):
                if not state.referenced(path):
                    try:
                        self.tree.remove_data_file(path)
                        removed += 1
                    except ValueError as error:  # recorded by an older version from a hostile row
                        logger.error("%s: not pruned: %s", self.collection.slug, error)
                state.garbage_discard([path])
            state.commit()
        finally:
            state.close()
        if removed:
            logger.info("%s: pruned %s data files", self.collection.slug, removed)
        return removed
