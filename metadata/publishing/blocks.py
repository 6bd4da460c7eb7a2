"""primary.sqlite.gz from cached gzip members, one per block of the primary DB.

The primary DB is changed in place (metadata.publishing.primary), but compressing all of it each
revision (hundreds of MB) grew with the collection. The file is cut into fixed blocks instead, and each
block's gzip member is cached beside it (`primary-blocks.sqlite` in the work folder) under the sha256
of the block's bytes. A publish reads the DB once: it hashes every block (for the cache) and, on a second thread, the
whole file (repomd's open_sha256), compresses only the blocks whose hash changed, and writes every
member.

The cache is a memo, never a source of truth: a member is used only for a block whose bytes hash to
the hash it was made from, so a stale, partial or lost cache costs time, never a wrong file. It needs
no part in the commit protocol.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import BinaryIO

from core.fs import ThreadedSha256
from metadata.publishing.parts import OpenData, gzip_member

# 4 SQLite pages: a publish of 1,000 projects touches a few thousand pages scattered over the file
# (index leaves, project rows), so small blocks keep the recompressed share small; each member's
# overhead (about 20 bytes, and deflate restarting) stays a few percent.
BLOCK_BYTES = 16 * 1024
CHUNK_BLOCKS = 64  # blocks read at once (1 MiB)
BATCH_BYTES = 32 * 1024 * 1024  # new members written to the cache in batches: bounded memory

_SCHEMA = "CREATE TABLE IF NOT EXISTS blocks (idx INTEGER PRIMARY KEY, sha256 BLOB NOT NULL, member BLOB NOT NULL)"


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    # WAL: the reader's snapshot stays put while the writer replaces rows; a crash loses at most the
    # last transaction of a memo.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(_SCHEMA)
    return conn


def write_blocks_gz(source: Path, cache_path: Path, out: BinaryIO, stats: dict[str, int]) -> OpenData:
    """Write source gzipped (one member per block) to out; the figures of source's content."""
    try:
        reader = _connect(cache_path)
    except sqlite3.DatabaseError:
        cache_path.unlink(missing_ok=True)  # an unreadable memo is thrown away
        reader = _connect(cache_path)
    writer = _connect(cache_path)
    try:
        return _write(source, reader, writer, out, stats)
    finally:
        if writer.in_transaction:
            writer.execute("ROLLBACK")
        writer.close()
        reader.close()


def _write(
    source: Path, reader: sqlite3.Connection, writer: sqlite3.Connection, out: BinaryIO, stats: dict[str, int]
) -> OpenData:
    size = 0
    pending: list[tuple[int, bytes, bytes]] = []
    pending_bytes = 0
    writer.execute("BEGIN IMMEDIATE")
    reader.execute("BEGIN")  # one snapshot for the whole read
    cached = reader.execute("SELECT idx, sha256, member FROM blocks ORDER BY idx")
    row = cached.fetchone()
    index = 0
    block_bytes = BLOCK_BYTES
    # The whole file's hash (open_sha256) is taken on a thread of its own, one chunk behind the block
    # hashes: sha256 releases the GIL, so the two passes over every byte run on two cores.
    with open(source, "rb") as handle, ThreadedSha256() as whole:
        while chunk := handle.read(block_bytes * CHUNK_BLOCKS):
            whole.update(chunk)
            size += len(chunk)
            view = memoryview(chunk)
            for start in range(0, len(chunk), block_bytes):
                block = view[start : start + block_bytes]
                digest = hashlib.sha256(block).digest()
                while row is not None and row[0] < index:
                    row = cached.fetchone()
                if row is not None and row[0] == index and row[1] == digest:
                    member = row[2]
                else:
                    member = gzip_member(bytes(block))
                    pending.append((index, digest, member))
                    pending_bytes += len(member)
                    stats["blocks_compressed"] = stats.get("blocks_compressed", 0) + 1
                out.write(member)
                if pending_bytes >= BATCH_BYTES:
                    writer.executemany("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?)", pending)
                    pending, pending_bytes = [], 0
                index += 1
        open_sha256 = whole.hexdigest()
    cached.close()
    reader.execute("COMMIT")
    if size == 0:
        out.write(gzip_member(b""))  # a gzip file holds at least one member
    writer.executemany("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?)", pending)
    writer.execute("DELETE FROM blocks WHERE idx >= ?", (index,))
    writer.execute("COMMIT")
    stats["blocks"] = index
    return OpenData(sha256=open_sha256, size=size)
