"""The root pages and primary.json of a collection, assembled from cached parts: one part per range of projects.

Rebuilding the two root pages and primary.json.gz from every project each revision grew with the
collection (seconds per 100,000 projects). The projects are cut into ranges by name instead, and each
range's share of the three files is cached in the state (table `parts`): its root HTML lines, its root
JSON entries and its primary.json lines as ONE gzip member (gzip allows concatenated members; a reader
sees one stream). A publish rebuilds only the parts of the ranges whose projects changed, then
streams header, every cached part and footer into each file.

Ranges are content-defined: a published project whose name hashes to 0 modulo RANGE_SPAN starts a
range (the first range starts at ''). So the cut depends on the set of names only, never on history:
a full rebuild and any chain of incremental publishes give the same parts, and the same bytes. The
parts live in the state's transaction, so they commit (or roll back) with the revision.

The cost of a publish that changed k projects: about k * RANGE_SPAN projects re-serialised, plus one
sequential read of the cached parts, plus hashing the outputs (sha256 names the file and fills
repomd.json; primary.json's open_sha256 is taken from the projects' lines, read once more).
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import BinaryIO

from core.fs import ThreadedSha256
from metadata.publishing.render import (
    ROOT_HTML_FOOTER,
    ROOT_HTML_HEADER,
    ROOT_JSON_FOOTER,
    root_html_entry,
    root_json_entry,
    root_json_header,
)

RANGE_SPAN = 8  # projects per range on average: a changed project re-serialises about this many
GZIP_LEVEL = 1  # as the rest of the repodata: rebuilt often, speed over the last percent of size
PARTS_FORMAT = f"1:{RANGE_SPAN}:{GZIP_LEVEL}"  # a state whose parts were cut otherwise rebuilds them all

PRIMARY_SEPARATOR = b",\n"
PRIMARY_FOOTER = b"\n]}\n"

PARTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS parts (
    start TEXT PRIMARY KEY, lead INTEGER NOT NULL, html BLOB NOT NULL, json BLOB NOT NULL,
    primary_size INTEGER NOT NULL, primary_gz BLOB NOT NULL
);
"""


def starts_range(name: str) -> bool:
    """Does this project name start a range? (A pure function of the name: content-defined cuts.)"""
    return zlib.crc32(name.encode()) % RANGE_SPAN == 0


def primary_header(slug: str) -> bytes:
    return f'{{"version":1,"collection":{json.dumps(slug)},"projects":[\n'.encode()


def join_lines(lines: Iterable[bytes], batch: int = 2000) -> Iterator[bytes]:
    """primary.json's project lines in chunks of `batch`, PRIMARY_SEPARATOR between every two of them."""
    iterator = iter(lines)
    separator = b""
    while chunk := list(islice(iterator, batch)):
        yield separator + PRIMARY_SEPARATOR.join(chunk)
        separator = PRIMARY_SEPARATOR


def gzip_member(data: bytes) -> bytes:
    """One gzip member, deterministic (no name, no time): the same bytes give the same member."""
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


@dataclass(frozen=True)
class OpenData:
    """What repomd.json says of a data file's uncompressed content."""

    sha256: str
    size: int


class ProjectParts:
    """The cached parts of one publish, on the state's connection (inside its open transaction)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.rebuilt = 0  # parts rebuilt by this publish (a test and the benchmark look at it)

    # -- keeping the parts up to date ---------------------------------------------------------

    def refresh(self, changed: Iterable[str] | None, stored_format: str | None) -> None:
        """Rebuild the parts of the ranges holding these changed names (None: rebuild every part)."""
        if changed is None or stored_format != PARTS_FORMAT or not self._has_first():
            self._rebuild_all()
            return
        affected: set[str] = set()
        names = sorted(set(changed))
        for name in names:
            if not starts_range(name):
                continue
            published = self.conn.execute("SELECT 1 FROM projects WHERE name = ?", (name,)).fetchone()
            exists = self.conn.execute("SELECT 1 FROM parts WHERE start = ?", (name,)).fetchone()
            if published and not exists:  # a new cut: the range it falls in splits
                self._store(name, 1, [])
                affected.add(name)
            elif exists and not published:  # a cut goes: its range joins the one before
                self.conn.execute("DELETE FROM parts WHERE start = ?", (name,))
            else:
                continue
            affected.add(self._start_before(name))
        for name in names:
            affected.add(self._start_of(name))
        for start in sorted(affected):
            self._rebuild(start, 0 if start == "" else 1)
        self._fix_leads()

    def _has_first(self) -> bool:
        return self.conn.execute("SELECT 1 FROM parts WHERE start = ''").fetchone() is not None

    def _start_of(self, name: str) -> str:
        row = self.conn.execute("SELECT max(start) FROM parts WHERE start <= ?", (name,)).fetchone()
        return row[0] or ""

    def _start_before(self, name: str) -> str:
        row = self.conn.execute("SELECT max(start) FROM parts WHERE start < ?", (name,)).fetchone()
        return row[0] or ""

    def _rebuild_all(self) -> None:
        self.conn.execute("DELETE FROM parts")
        start, lead, rows = "", 0, []
        cursor = self.conn.execute("SELECT name, display_name, serial, CAST(line AS BLOB) FROM projects ORDER BY name")
        while batch := cursor.fetchmany(2000):
            for row in batch:
                if starts_range(row[0]):
                    self._store(start, lead, rows)
                    lead = lead or int(bool(rows))  # a separator once some part before has content
                    start, rows = row[0], []
                rows.append(row)
        self._store(start, lead, rows)

    def _rebuild(self, start: str, lead: int) -> None:
        end = self.conn.execute("SELECT min(start) FROM parts WHERE start > ?", (start,)).fetchone()[0]
        query = "SELECT name, display_name, serial, CAST(line AS BLOB) FROM projects WHERE name >= ?"
        args: tuple = (start,)
        if end is not None:
            query, args = query + " AND name < ?", (start, end)
        self._store(start, lead, self.conn.execute(query + " ORDER BY name", args).fetchall())

    def _store(self, start: str, lead: int, rows: list[tuple[str, str, int, bytes]]) -> None:
        """One part: rows are (name, display name, serial, primary line) of its range, by name.

        lead says whether the part's JSON entries and primary lines begin with their separator:
        every non-empty part does except the first one of the file.
        """
        html = "".join(root_html_entry(name, display) for name, display, _serial, _line in rows)
        entries = [root_json_entry(display, serial) for _name, display, serial, _line in rows]
        lines = [line for *_, line in rows]
        json_part = ("," if lead and entries else "") + ",".join(entries)
        primary = (PRIMARY_SEPARATOR if lead and lines else b"") + PRIMARY_SEPARATOR.join(lines)
        self.conn.execute(
            "INSERT OR REPLACE INTO parts (start, lead, html, json, primary_size, primary_gz)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (start, lead, html.encode(), json_part.encode(), len(primary), gzip_member(primary) if primary else b""),
        )
        self.rebuilt += 1

    def _fix_leads(self) -> None:
        """The first non-empty part has no leading separator, every other one has one."""
        first = True
        wrong = []
        for start, lead, size in self.conn.execute("SELECT start, lead, length(html) FROM parts ORDER BY start"):
            if not size:
                continue
            if lead != (0 if first else 1):
                wrong.append((start, 0 if first else 1))
            first = False
        for start, lead in wrong:
            self._rebuild(start, lead)

    # -- assembling the files -----------------------------------------------------------------

    def _column(self, column: str) -> Iterator[bytes]:
        cursor = self.conn.execute(f"SELECT {column} FROM parts ORDER BY start")  # noqa: S608 (a fixed name)
        while batch := cursor.fetchmany(1000):
            yield b"".join(row[0] for row in batch)

    def root_html_chunks(self) -> Iterator[bytes]:
        """The PEP 503 root page, byte for byte render.root_html_chunks of every project."""
        yield ROOT_HTML_HEADER
        yield from self._column("html")
        yield ROOT_HTML_FOOTER

    def root_json_chunks(self, last_serial: int) -> Iterator[bytes]:
        """The PEP 691 root page, byte for byte render.root_json_chunks of every project."""
        yield root_json_header(last_serial)
        yield from self._column("json")
        yield ROOT_JSON_FOOTER

    def write_primary_gz(self, out: BinaryIO, slug: str) -> OpenData:
        """primary.json.gz: a header member, every part's member, a footer member; its open content's figures.

        The members are copied as they are. The open sha256 is taken from the projects' lines in the
        state, joined as the parts join them: reading them costs a third of inflating every member
        again, and the sha256 runs on a second thread (hashlib releases the GIL). The sizes of the two
        must agree (a part that does not match its lines is a bug, never data).
        """
        header = primary_header(slug)
        out.write(gzip_member(header))
        parts_size = 0
        cursor = self.conn.execute("SELECT primary_size, primary_gz FROM parts ORDER BY start")
        while rows := cursor.fetchmany(500):
            for part_size, member in rows:
                if member:
                    out.write(member)
                    parts_size += part_size
        out.write(gzip_member(PRIMARY_FOOTER))
        opened = self._open_figures(header)
        if opened.size != len(header) + parts_size + len(PRIMARY_FOOTER):
            raise RuntimeError("the cached primary.json parts do not match the projects' lines")
        return opened

    def _open_figures(self, header: bytes) -> OpenData:
        """sha256 and size of header + every project's line (by name, PRIMARY_SEPARATOR between) + footer."""
        size = len(header) + len(PRIMARY_FOOTER)
        cursor = self.conn.execute("SELECT CAST(line AS BLOB) FROM projects ORDER BY name")
        with ThreadedSha256(header) as digest:
            for chunk in join_lines(row[0] for row in cursor):
                size += len(chunk)
                digest.update(chunk)
            digest.update(PRIMARY_FOOTER)
            return OpenData(sha256=digest.hexdigest(), size=size)
