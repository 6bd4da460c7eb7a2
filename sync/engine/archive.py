"""Accepting a file that the index gives no hash for: the archive must open and read through, every byte.

Zip archives (wheels, eggs, zip sdists): every member is decompressed and its CRC checked. Tar archives
are walked header by header here rather than through tarfile's member list, which keeps every header in
memory (10 million empty members ended in MemoryError): a budget of members and of unpacked bytes stops a
bomb early, header extensions (pax, GNU long names) are bounded, and after the end marker the compressed
stream is read to its end, so the gzip/bz2/xz trailer checksums are checked too (a corrupt member that
tar itself cannot tell would otherwise pass).

Every refusal is deterministic (BadArchive): the same bytes are refused again, so it is not retried.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import tarfile
import zipfile
from pathlib import Path
from typing import BinaryIO

from sync.engine.names import EGG_SUFFIX, SDIST_SUFFIXES, WHEEL_SUFFIX

_CHUNK = 1024 * 1024
_ZIP_SUFFIXES = (WHEEL_SUFFIX, EGG_SUFFIX, ".zip")
_TAR_SUFFIXES = tuple(suffix for suffix in SDIST_SUFFIXES if suffix not in _ZIP_SUFFIXES)
DEFAULT_MAX_MEMBERS = 100_000  # SYNC_MAX_ARCHIVE_MEMBERS
MAX_HEADER_EXTENSION_BYTES = 1024 * 1024  # one pax or GNU long-name block; real ones are a few hundred bytes
MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024 * 1024
_BLOCK = tarfile.BLOCKSIZE
# Member types whose data follows the header (as tarfile reads them: regular files and anything unknown).
_HEADER_TYPES = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME,
                 tarfile.GNUTYPE_LONGLINK)  # fmt: skip
_NO_DATA_TYPES = frozenset(tarfile.SUPPORTED_TYPES) - frozenset(tarfile.REGULAR_TYPES) - frozenset(_HEADER_TYPES)


class BadArchive(ValueError):
    """The file does not open or does not read through as the archive its name says it is."""


class _Budget:
    def __init__(self, filename: str, max_bytes: int, max_members: int) -> None:
        self.filename, self.bytes_left, self.members_left = filename, max_bytes, max_members
        self.max_bytes, self.max_members = max_bytes, max_members

    def member(self) -> None:
        self.members_left -= 1
        if self.members_left < 0:
            raise BadArchive(f"{self.filename}: more than {self.max_members} members (SYNC_MAX_ARCHIVE_MEMBERS)")

    def spend(self, count: int) -> None:
        self.bytes_left -= count
        if self.bytes_left < 0:
            raise BadArchive(f"{self.filename}: unpacks to more than {self.max_bytes} bytes")


def archive_check(
    path: Path, filename: str, *, max_unpacked_bytes: int, max_members: int = DEFAULT_MAX_MEMBERS
) -> None:
    """Read every member through (CRCs and compressed streams are checked on the way); BadArchive if not.

    max_unpacked_bytes and max_members bound the work (and memory) a decompression bomb can cause.
    """
    lowered = filename.lower()
    budget = _Budget(filename, max_unpacked_bytes, max_members)
    try:
        if lowered.endswith(_ZIP_SUFFIXES):
            _zip_check(path, budget)
            return
        if lowered.endswith(_TAR_SUFFIXES):
            with _open_tar_stream(path) as stream:
                _tar_walk(stream, budget)
            return
    except BadArchive:
        raise
    except MemoryError:
        raise BadArchive(f"{filename}: too big to check in memory") from None
    except Exception as error:  # zlib.error, LZMAError, EOFError, NotImplementedError, RuntimeError (encrypted)…
        raise BadArchive(
            f"{filename}: does not read through as an archive ({type(error).__name__}: {str(error)[:200]})"
        ) from error
    raise BadArchive(f"{filename}: no hash from the index and not an archive type that can be checked")


def _drain(stream: BinaryIO, budget: _Budget, count: int | None = None) -> int:
    """Read `count` bytes (None: to the end) through the budget; returns how many were read."""
    total = 0
    while count is None or total < count:
        chunk = stream.read(_CHUNK if count is None else min(_CHUNK, count - total))
        if not chunk:
            break
        total += len(chunk)
        budget.spend(len(chunk))
    return total


# -- zip ---------------------------------------------------------------------------------------


def _zip_check(path: Path, budget: _Budget) -> None:
    with open(path, "rb") as handle:
        _zip_count_entries(handle, budget)
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.is_dir():
                with archive.open(info) as member:
                    _drain(member, budget)


def _zip_count_entries(handle: BinaryIO, budget: _Budget) -> None:
    """Refuse a central directory of more than max_members entries before zipfile builds one object each.

    Counted by their signature in the directory's bytes (the count in the end record may lie; the
    signature inside a name only over-counts).
    """
    end = zipfile._EndRecData(handle)  # noqa: SLF001 - the stdlib's own reader of the end record
    if end is None:
        raise BadArchive(f"{budget.filename}: not a zip file (no end of central directory)")
    size, offset = end[zipfile._ECD_SIZE], end[zipfile._ECD_OFFSET]  # noqa: SLF001
    if end[zipfile._ECD_ENTRIES_TOTAL] > budget.max_members or size > MAX_CENTRAL_DIRECTORY_BYTES:  # noqa: SLF001
        raise BadArchive(f"{budget.filename}: more than {budget.max_members} members (SYNC_MAX_ARCHIVE_MEMBERS)")
    # zipfile finds the directory relative to the end record (data may be prepended): so do we.
    location = end[zipfile._ECD_LOCATION] - size  # noqa: SLF001
    handle.seek(location if location >= 0 else offset)
    directory = handle.read(size)
    if directory.count(b"PK\x01\x02") > budget.max_members:
        raise BadArchive(f"{budget.filename}: more than {budget.max_members} members (SYNC_MAX_ARCHIVE_MEMBERS)")


# -- tar ---------------------------------------------------------------------------------------


def _open_tar_stream(path: Path) -> BinaryIO:
    """The decompressed stream of a tar archive, by its magic bytes (as tarfile's "r:*" would)."""
    with open(path, "rb") as probe:
        magic = probe.read(6)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if magic[:3] == b"BZh":
        return bz2.open(path, "rb")  # type: ignore[return-value]
    if magic == b"\xfd7zXZ\x00":
        return lzma.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _tar_walk(stream: BinaryIO, budget: _Budget) -> None:
    """Walk the headers, read every member's data, then the rest of the stream to its end (trailer CRCs)."""
    seen = 0
    size_override: int | None = None
    while True:
        block = stream.read(_BLOCK)
        if not block and seen:
            break  # no end marker: tarfile accepts that too (a compressed stream's trailer is still checked)
        if len(block) < _BLOCK:
            raise BadArchive(f"{budget.filename}: truncated tar header")
        if block == tarfile.NUL * _BLOCK:
            if not seen:
                raise BadArchive(f"{budget.filename}: an empty tar archive")
            _drain(stream, budget)  # the rest, to the end of the compressed stream
            return
        budget.member()
        seen += 1
        info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")  # checks the header checksum
        size = info.size if size_override is None else size_override
        size_override = None
        if size < 0:
            raise BadArchive(f"{budget.filename}: a member of negative size")
        if info.type in _HEADER_TYPES:
            if size > MAX_HEADER_EXTENSION_BYTES:
                raise BadArchive(f"{budget.filename}: a header extension of {size} bytes, refused")
            data = stream.read(_padded(size))
            if len(data) < _padded(size):
                raise BadArchive(f"{budget.filename}: truncated header extension")
            budget.spend(len(data))
            if info.type in (tarfile.XHDTYPE, tarfile.SOLARIS_XHDTYPE):
                size_override = _pax_size(data[:size])
            continue
        if info.type in _NO_DATA_TYPES:
            continue  # directories, links, devices: tarfile skips no data for them either
        padded = _padded(size)
        if _drain(stream, budget, padded) < padded:
            raise BadArchive(f"{budget.filename}: truncated member {info.name[:200]!r}")
    # Reached only without an end marker; the stream has been read to its end.


def _padded(size: int) -> int:
    return -(-size // _BLOCK) * _BLOCK


def _pax_size(records: bytes) -> int | None:
    """The `size` record of a pax extended header (it overrides the next member's size field), if any."""
    position = 0
    while position < len(records):
        space = records.find(b" ", position)
        if space <= position:
            break
        try:
            length = int(records[position:space])
        except ValueError as error:
            raise BadArchive("a malformed pax header") from error
        if length <= 0:
            raise BadArchive("a malformed pax header")
        record = records[space + 1 : position + length].rstrip(b"\n")
        key, _, value = record.partition(b"=")
        if key == b"size":
            try:
                return int(value)
            except ValueError as error:
                raise BadArchive("a malformed pax size") from error
        position += length
    return None
