"""primary.sqlite: the published primary data a depsolver reads, kept in the work folder beside the state.

Built whole from the state (PrimaryRebuild) by a first publish, or when it is missing or does not belong to
the committed state; otherwise changed in place by each publish (PrimaryDB).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from metadata.publishing.render import PublishedFile, package_location
from metadata.publishing.state import PublishState, file_values, open_durable

# The published primary.sqlite: what a depsolver reads. Ids follow name order, so the same
# catalogue gives the same bytes.
_PRIMARY_SCHEMA = """
CREATE TABLE out.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE out.projects (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
    last_serial INTEGER NOT NULL
);
CREATE TABLE out.files (
    id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id),
    filename TEXT NOT NULL, version TEXT NOT NULL, package_type TEXT NOT NULL,
    sha256 TEXT NOT NULL, size INTEGER NOT NULL, upload_time TEXT, requires_python TEXT,
    yanked INTEGER NOT NULL, yanked_reason TEXT, core_metadata_sha256 TEXT, location TEXT NOT NULL
);
"""
_PRIMARY_INDEXES = """
CREATE INDEX out.files_project ON files(project_id);
CREATE INDEX out.files_sha256 ON files(sha256);
CREATE VIEW out.versions AS SELECT DISTINCT project_id, version FROM files;
"""


def export_primary_sqlite(state: PublishState, target: Path, slug: str) -> None:
    """primary.sqlite, built whole from the state's open transaction: ids in name order, so that the same
    content gives the same bytes."""
    _export_rows(
        target,
        meta=[("version", "1"), ("collection", slug)],
        projects=state.iter_projects(),
        file_rows=state.iter_file_rows(),
    )


def _export_rows(
    target: Path,
    *,
    meta: list[tuple[str, str]],
    projects: Iterable[tuple[str, str, int]],
    file_rows: Iterable[tuple],
    removed: Iterable[str] | None = None,
) -> None:
    """Write a primary DB at target: projects (name, display name, serial) in name order take the ids
    1, 2, ...; file_rows are the state's file rows, `removed` the names of an updates DB's `removed`."""
    target.unlink(missing_ok=True)
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        _output_begin(conn, target)
        conn.executemany("INSERT INTO out.meta VALUES (?, ?)", meta)
        conn.executemany("INSERT INTO out.projects (name, display_name, last_serial) VALUES (?, ?, ?)", projects)
        conn.executemany(
            f"INSERT INTO out.files (project_id, {_PRIMARY_FILE_COLUMNS})"  # noqa: S608
            " VALUES ((SELECT id FROM out.projects WHERE name = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((*row, package_location(row[4], row[1])) for row in file_rows),
        )
        if removed is not None:
            conn.execute("CREATE TABLE out.removed (name TEXT PRIMARY KEY)")
            conn.executemany("INSERT INTO out.removed VALUES (?)", ((name,) for name in removed))
        _output_end(conn)
    finally:
        conn.close()


def _statements(script: str) -> list[str]:
    return [statement for statement in script.split(";") if statement.strip()]


def _output_begin(conn: sqlite3.Connection, target: Path) -> None:
    """Attach target as `out` (a new file, written in one transaction, no journal) with the primary schema."""
    conn.execute("ATTACH DATABASE ? AS out", (str(target),))
    conn.execute("PRAGMA out.journal_mode=OFF")
    conn.execute("PRAGMA out.synchronous=OFF")
    conn.execute("BEGIN")
    for statement in _statements(_PRIMARY_SCHEMA):
        conn.execute(statement)


def _output_end(conn: sqlite3.Connection) -> None:
    """Index, commit and detach `out` (indexes made once the rows are in: faster, and the same bytes)."""
    for statement in _statements(_PRIMARY_INDEXES):
        conn.execute(statement)
    conn.execute("COMMIT")
    conn.execute("DETACH DATABASE out")


def export_updates_sqlite(state: PublishState, target: Path, slug: str, base_sha256: str) -> None:
    """primary-updates.sqlite: the primary DB's schema holding only the projects changed since the base
    (from the state's open transaction), plus `removed`, the names no longer published; `meta` names the
    base it updates. Ids follow name order, so the same changes give the same bytes."""
    _export_rows(
        target,
        meta=[("version", "1"), ("collection", slug), ("base", base_sha256)],
        projects=state.updated_projects(),
        file_rows=state.updated_file_rows(),
        removed=(name for name, line in state.updated_lines() if line is None),
    )


_PRIMARY_FILE_COLUMNS = (
    "filename, version, package_type, sha256, size, upload_time, requires_python, yanked, yanked_reason,"
    " core_metadata_sha256, location"
)


def _primary_row(file: PublishedFile) -> tuple:
    return (*file_values(file), file.location)


class PrimaryRebuild:
    """primary.sqlite made whole from the state at commit(), for a publish that would otherwise write every
    row in place (the first one: 1,000,000 file rows cost 16 s in place, a few seconds in bulk), or whose file
    does not belong to the committed state. The project rows come from the state, so the per-project calls
    of PrimaryDB have nothing to do here."""

    def __init__(self, state: PublishState, path: Path, slug: str) -> None:
        self.state, self.path, self.slug = state, path, slug

    def replace_project(self, name: str, display_name: str, serial: int, files: list[PublishedFile]) -> None:
        """Nothing to do: commit() takes the project's rows from the state."""

    def delete_project(self, name: str) -> None:
        """Nothing to do: commit() takes the project's rows from the state."""

    def commit(self) -> str:
        """Write the file from the state's transaction; its marker."""
        export_primary_sqlite(self.state, self.path, self.slug)
        return PrimaryDB.marker(self.path)

    def close(self) -> None:
        """Nothing is open between the calls."""


class PrimaryDB:
    """primary.sqlite, kept in the work folder and changed in place by each publish.

    Rebuilding it every revision cost seconds per 100,000 projects; a publish now changes only the
    rows of the projects that changed, commits, and compresses the committed file. It is built
    fresh (ids in name order) when it is missing or does not belong to the committed state: its
    `marker` (SQLite's file change counter and page count, from the file header) is recorded in the
    state in the transaction that commits the revision, so a publish that crashed after this file's
    commit and before the state's is noticed and the file is rebuilt from the state. Ids of projects
    added later follow the largest one; a project keeps its id while it is published.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = open_durable(path)
        # Freed pages are zeroed: no stale rows in the published file, and it compresses better.
        self.conn.execute("PRAGMA secure_delete=ON")
        self.conn.execute("BEGIN IMMEDIATE")
        self.closed = False

    @staticmethod
    def marker(path: Path) -> str:
        """The file's change counter and page count ('' when missing or not a SQLite file)."""
        try:
            with open(path, "rb") as handle:
                header = handle.read(100)
        except FileNotFoundError:
            return ""
        if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
            return ""
        return f"{int.from_bytes(header[24:28], 'big')}:{int.from_bytes(header[28:32], 'big')}"

    def replace_project(self, name: str, display_name: str, serial: int, files: list[PublishedFile]) -> None:
        """Make the project's rows these; unchanged file rows stay as they are."""
        row = self.conn.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
        if row is None:
            project_id = self.conn.execute(
                "INSERT INTO projects (name, display_name, last_serial) VALUES (?, ?, ?)", (name, display_name, serial)
            ).lastrowid
        else:
            project_id = row[0]
            self.conn.execute(
                "UPDATE projects SET display_name = ?, last_serial = ? WHERE id = ?", (display_name, serial, project_id)
            )
        existing = {
            row[1]: row
            for row in self.conn.execute(
                f"SELECT id, {_PRIMARY_FILE_COLUMNS} FROM files WHERE project_id = ?",  # noqa: S608
                (project_id,),
            )
        }
        wanted = {file.filename: _primary_row(file) for file in files}
        stale = [(row[0],) for filename, row in existing.items() if wanted.get(filename) != row[1:]]
        self.conn.executemany("DELETE FROM files WHERE id = ?", stale)
        kept = {filename for filename, row in existing.items() if wanted.get(filename) == row[1:]}
        self.conn.executemany(
            f"INSERT INTO files (project_id, {_PRIMARY_FILE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            [(project_id, *values) for filename, values in wanted.items() if filename not in kept],
        )

    def delete_project(self, name: str) -> None:
        row = self.conn.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
        if row is not None:
            self.conn.execute("DELETE FROM files WHERE project_id = ?", (row[0],))
            self.conn.execute("DELETE FROM projects WHERE id = ?", (row[0],))

    def commit(self) -> str:
        """COMMIT (durable) and close; the file's marker."""
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")
        self.close()
        return self.marker(self.path)

    def close(self) -> None:
        """Close (again: a no-op); what was not committed is rolled back."""
        if self.closed:
            return
        self.closed = True
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.close()
