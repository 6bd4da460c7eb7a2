"""Accepting a file that the index gives no hash for: the archive must open and read through."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

from sync.engine.names import EGG_SUFFIX, SDIST_SUFFIXES, WHEEL_SUFFIX

_CHUNK = 1024 * 1024
_ZIP_SUFFIXES = (WHEEL_SUFFIX, EGG_SUFFIX, ".zip")
_TAR_SUFFIXES = tuple(suffix for suffix in SDIST_SUFFIXES if suffix not in _ZIP_SUFFIXES)


class BadArchive(ValueError):
    """The file does not open or does not read through as the archive its name says it is."""


def archive_check(path: Path, filename: str, *, max_unpacked_bytes: int) -> None:
    """Read every member through (CRCs and compressed streams are checked on the way); BadArchive if not.

    max_unpacked_bytes bounds the work a decompression bomb can cause.
    """
    lowered = filename.lower()
    budget = [max_unpacked_bytes]

    def drain(stream: object) -> None:
        while True:
            chunk = stream.read(_CHUNK)  # type: ignore[attr-defined]
            if not chunk:
                return
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise BadArchive(f"{filename}: unpacks to more than {max_unpacked_bytes} bytes")

    try:
        if lowered.endswith(_ZIP_SUFFIXES):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if not info.is_dir():
                        with archive.open(info) as member:
                            drain(member)
            return
        if lowered.endswith(_TAR_SUFFIXES):
            with tarfile.open(path, "r:*") as archive:
                for member in archive:
                    if member.isfile():
                        stream = archive.extractfile(member)
                        if stream is not None:
                            drain(stream)
            return
    except BadArchive:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError, RuntimeError) as error:
        raise BadArchive(
            f"{filename}: does not read through as an archive ({type(error).__name__}: {error})"
        ) from error
    raise BadArchive(f"{filename}: no hash from the index and not an archive type that can be checked")
