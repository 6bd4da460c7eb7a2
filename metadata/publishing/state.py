"""What a collection's tree holds, kept in a SQLite file beside it (not in the published tree).

The state makes publication incremental and cheap: a publish changes the rows of the projects that
changed in ONE SQLite transaction on the state itself, writes the root pages and primary.json from
that transaction's view (from cached parts per range of projects, kept in the state too:
metadata.publishing.parts), and commits it together with the revision's journal row: that COMMIT is
the commit point of the publish (metadata.publishing.commit). A crash before it rolls the state back
(SQLite's rollback journal), so nothing grows with the collection per revision: no copy of the state.
It also remembers which data files became unreferenced, and since when, so that they are pruned
after the grace period.

The published primary.sqlite, kept beside it and changed in place, is metadata.publishing.primary.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from metadata.publishing.parts import PARTS_SCHEMA
from metadata.publishing.render import PublishedFile, package_location

SCHEMA_VERSION = "1"

_STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS projects (
    name TEXT PRIMARY KEY, display_name TEXT NOT NULL, serial INTEGER NOT NULL, line TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS files (
    project TEXT NOT NULL, filename TEXT NOT NULL, version TEXT NOT NULL, package_type TEXT NOT NULL,
    sha256 TEXT NOT NULL, size INTEGER NOT NULL, upload_time TEXT, requires_python TEXT,
    yanked INTEGER NOT NULL, yanked_reason TEXT, core_metadata_sha256 TEXT,
    PRIMARY KEY (project, filename)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS garbage (path TEXT PRIMARY KEY, since REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY CHECK (id = 1), record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS updated (name TEXT PRIMARY KEY) WITHOUT ROWID;
"""
# The repodata files a revision names (repomd.json's "data" keys, and the state's meta keys of their
# locations): the base (every project as of the last rebase) and the updates since it
# (metadata.publishing.updates).
BASE_KEYS = ("primary", "primary_db")
UPDATES_KEYS = ("primary_updates", "primary_db_updates")
DATA_KEYS = BASE_KEYS + UPDATES_KEYS


def file_paths(file: PublishedFile) -> list[str]:
    """The tree paths one file occupies: the package and its .metadata, if any."""
    paths = [file.location]
    if file.core_metadata_sha256:
        paths.append(file.location + ".metadata")
    return paths


def _row_paths(filename: str, sha256: str, core_metadata_sha256: str | None) -> list[str]:
    location = package_location(sha256, filename)
    return [location, location + ".metadata"] if core_metadata_sha256 else [location]


def open_durable(path: Path) -> sqlite3.Connection:
    """A connection whose COMMIT is atomic and durable (rollback journal, fsynced), in autocommit mode."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA cache_size=-65536")  # 64 MB: a full publish's transaction spills less
    return conn


class PublishState:
    """The state file, with one write transaction open from opening until commit() or close().

    close() without commit() rolls the transaction back: an exception anywhere in a publish leaves
    the state as the previous revision left it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = open_durable(path)
        self.conn.executescript(_STATE_SCHEMA + PARTS_SCHEMA)
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS touched (name TEXT PRIMARY KEY) WITHOUT ROWID")
        self.changed = 0  # projects whose published content this transaction changed
        self.changed_names: set[str] = set()  # their names: the ranges of cached parts to rebuild
        # Whether a project was added or removed, or shows another display name: only then does the PEP 503
        # root page (names and display names) change.
        self.listing_changed = False
        # What this transaction added to the counts (projects, files, bytes): counting the whole catalogue
        # each publish grew with it (0.2 s per 100,000 projects, warm).
        self._count_delta = [0, 0, 0]
        self.conn.execute("BEGIN IMMEDIATE")
        # Whether `garbage` may hold a row: in a first publish it never does, and looking up every new path
        # in it cost 1.5 million DELETE statements per 100,000 projects.
        self._garbage_maybe = self.conn.execute("SELECT 1 FROM garbage LIMIT 1").fetchone() is not None

    # -- the journal row (the commit record of a publish) -------------------------------------

    def journal_get(self) -> dict | None:
        row = self.conn.execute("SELECT record FROM journal WHERE id = 1").fetchone()
        return json.loads(row[0]) if row else None

    def journal_set(self, record: dict) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO journal (id, record) VALUES (1, ?)", (json.dumps(record, sort_keys=True),)
        )

    def journal_clear(self) -> None:
        self.conn.execute("DELETE FROM journal")

    # -- meta ---------------------------------------------------------------------------------

    def meta_get(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def meta_set(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- projects -----------------------------------------------------------------------------

    def old_files(self, names: Sequence[str]) -> dict[str, dict[str, tuple[str, str]]]:
        """{name: {filename: (sha256, core_metadata_sha256)}} of these projects as published."""
        result: dict[str, dict[str, tuple[str, str]]] = {}
        marks = ",".join("?" * len(names))
        rows = self.conn.execute(
            f"SELECT project, filename, sha256, core_metadata_sha256 FROM files WHERE project IN ({marks})",  # noqa: S608
            list(names),
        )
        for project, filename, sha256, metadata in rows:
            result.setdefault(project, {})[filename] = (sha256, metadata or "")
        return result

    def published_names(self, names: Sequence[str]) -> set[str]:
        marks = ",".join("?" * len(names))
        rows = self.conn.execute(f"SELECT name FROM projects WHERE name IN ({marks})", list(names))  # noqa: S608
        return {row[0] for row in rows}

    def project_line(self, name: str, display_name: str, serial: int, files: list[PublishedFile]) -> str:
        return json.dumps(
            {
                "name": name,
                "display_name": display_name,
                "last_serial": serial,
                "files": [file.as_json() for file in files],
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )

    def replace_project(
        self,
        name: str,
        display_name: str,
        serial: int,
        files: list[PublishedFile],
        old: dict[str, tuple[str, str]],
        now: float,
    ) -> bool:
        """Store a project's new files; what it no longer references becomes garbage. True when it changed."""
        line = self.project_line(name, display_name, serial, files)
        row = self.conn.execute("SELECT line, display_name FROM projects WHERE name = ?", (name,)).fetchone()
        if row is not None and row[0] == line:
            return False
        self.changed += 1
        self.changed_names.add(name)
        self.listing_changed = self.listing_changed or row is None or row[1] != display_name
        self._count_project(name, added=row is None, files=len(files), size=sum(file.size for file in files))
        new_paths = {path for file in files for path in file_paths(file)}
        old_paths = {path for filename, (sha, meta) in old.items() for path in _row_paths(filename, sha, meta)}
        self.garbage_add(old_paths - new_paths, now)
        self.garbage_discard(new_paths)
        self.conn.execute("DELETE FROM files WHERE project = ?", (name,))
        self.conn.execute(
            "INSERT OR REPLACE INTO projects (name, display_name, serial, line) VALUES (?, ?, ?, ?)",
            (name, display_name, serial, line),
        )
        self.conn.executemany(
            "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(name, *file_values(f)) for f in files],
        )
        return True

    def delete_project(self, name: str, old: dict[str, tuple[str, str]], now: float) -> None:
        """Forget a project; its files become garbage."""
        paths = {path for filename, (sha, meta) in old.items() for path in _row_paths(filename, sha, meta)}
        self.garbage_add(paths, now)
        self.changed += 1
        self.changed_names.add(name)
        if self.has_project(name):
            self._count_project(name, removed=True, files=0, size=0)
            self.listing_changed = True
        self.conn.execute("DELETE FROM files WHERE project = ?", (name,))
        self.conn.execute("DELETE FROM projects WHERE name = ?", (name,))

    def touch(self, names: Iterable[str]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO touched VALUES (?)", [(name,) for name in names])

    def untouched_names(self) -> list[str]:
        """Published names a full publish did not visit (gone from the catalogue's scope)."""
        rows = self.conn.execute("SELECT name FROM projects WHERE name NOT IN (SELECT name FROM touched)")
        return [row[0] for row in rows]

    # -- projects changed since the base (metadata.publishing.updates) ---------------------------

    def updated_add(self, names: Iterable[str]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO updated VALUES (?)", [(name,) for name in names])

    def updated_clear(self) -> None:
        self.conn.execute("DELETE FROM updated")

    def updated_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM updated").fetchone()[0]

    # CROSS JOIN keeps `updated` the outer loop: SQLite would otherwise walk every row of files or projects
    # in key order (to spare a sort) and look each up in `updated`, a cost that grows with the collection.

    def updated_lines(self) -> Iterator[tuple[str, bytes | None]]:
        """(name, primary line, or None for a project no longer published) of every project changed since
        the base, by name."""
        cursor = self.conn.execute(
            "SELECT u.name, CAST(p.line AS BLOB) FROM updated u LEFT JOIN projects p ON p.name = u.name ORDER BY u.name"
        )
        while rows := cursor.fetchmany(2000):
            yield from rows

    def updated_file_rows(self) -> Iterator[tuple]:
        """The state's file rows of the projects changed since the base that are still published, by
        project and filename."""
        cursor = self.conn.execute(
            "SELECT f.* FROM updated u CROSS JOIN files f ON f.project = u.name ORDER BY u.name, f.filename"
        )
        while rows := cursor.fetchmany(5000):
            yield from rows

    def updated_projects(self) -> list[tuple[str, str, int]]:
        """(name, display name, serial) of the projects changed since the base that are still published."""
        return self.conn.execute(
            "SELECT p.name, p.display_name, p.serial FROM updated u CROSS JOIN projects p ON p.name = u.name"
            " ORDER BY u.name"
        ).fetchall()

    def iter_projects(self) -> Iterator[tuple[str, str, int]]:
        """(name, display name, serial) of every published project, by name."""
        cursor = self.conn.execute("SELECT name, display_name, serial FROM projects ORDER BY name")
        while rows := cursor.fetchmany(5000):
            yield from rows

    def iter_file_rows(self) -> Iterator[tuple]:
        """Every file row of the state, by project and filename."""
        cursor = self.conn.execute("SELECT * FROM files ORDER BY project, filename")
        while rows := cursor.fetchmany(5000):
            yield from rows

    def has_project(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM projects WHERE name = ?", (name,)).fetchone() is not None

    def _count_project(self, name: str, *, files: int, size: int, added: bool = False, removed: bool = False) -> None:
        """Before a project's file rows are replaced by `files` rows of `size` bytes (the project `added` or
        `removed`, or neither): the change to the counts."""
        old_files = old_size = 0
        if not added:  # a project's file rows are written and deleted with its row: a new one has none
            old_files, old_size = self.conn.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM files WHERE project = ?", (name,)
            ).fetchone()
        delta = self._count_delta
        delta[0] += int(added) - int(removed)
        delta[1] += files - old_files
        delta[2] += size - old_size

    def counts(self, *, recount: bool = False) -> dict[str, int]:
        """Projects, files and bytes published, as of this transaction (stored in meta, so that the next
        publish adds its changes instead of counting everything; `recount` counts everything)."""
        stored = self.meta_get("counts")
        if stored is None or recount:
            projects = self.conn.execute("SELECT count(*) FROM projects").fetchone()[0]
            files, size = self.conn.execute("SELECT count(*), coalesce(sum(size), 0) FROM files").fetchone()
        else:
            before = json.loads(stored)
            added_projects, added_files, added_bytes = self._count_delta
            projects = before["projects"] + added_projects
            files, size = before["files"] + added_files, before["bytes"] + added_bytes
        counts = {"projects": projects, "files": files, "bytes": size}
        self.meta_set("counts", json.dumps(counts))
        self._count_delta = [0, 0, 0]
        return counts

    # -- garbage ------------------------------------------------------------------------------

    def garbage_add(self, paths: Iterable[str], since: float) -> None:
        rows = [(path, since) for path in paths]
        if rows:
            self._garbage_maybe = True
            self.conn.executemany("INSERT OR IGNORE INTO garbage VALUES (?, ?)", rows)

    def garbage_discard(self, paths: Iterable[str]) -> None:
        if self._garbage_maybe:
            self.conn.executemany("DELETE FROM garbage WHERE path = ?", [(p,) for p in paths])

    def garbage_due(self, cutoff: float) -> list[str]:
        rows = self.conn.execute("SELECT path FROM garbage WHERE since <= ? ORDER BY path", (cutoff,))
        return [row[0] for row in rows]

    def referenced(self, path: str) -> bool:
        """Is this tree path referenced by the published state (a package, .metadata or data file)?"""
        parts = path.split("/")
        if parts[0] == "packages" and len(parts) == 5:
            sha256, filename = parts[3], parts[4]
            if filename.endswith(".metadata"):
                row = self.conn.execute(
                    "SELECT 1 FROM files WHERE sha256 = ? AND filename = ? AND core_metadata_sha256 IS NOT NULL",
                    (sha256, filename.removesuffix(".metadata")),
                ).fetchone()
                if row:
                    return True
            return (
                self.conn.execute(
                    "SELECT 1 FROM files WHERE sha256 = ? AND filename = ?", (sha256, filename)
                ).fetchone()
                is not None
            )
        return path in {self.meta_get(key) for key in DATA_KEYS}

    # -- lifecycle ----------------------------------------------------------------------------

    def commit(self) -> None:
        """COMMIT (durable), then open the next transaction: the state is never written outside one."""
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")
        self.conn.execute("BEGIN IMMEDIATE")

    def close(self) -> None:
        """Close; what was not committed is rolled back."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.close()


def file_values(file: PublishedFile) -> tuple:
    """A file's columns in the state and in primary.sqlite (which adds its location)."""
    return (
        file.filename,
        file.version,
        file.package_type,
        file.sha256,
        file.size,
        file.upload_time_iso or None,
        file.requires_python or None,
        int(file.yanked),
        file.yanked_reason or None,
        file.core_metadata_sha256 or None,
    )
