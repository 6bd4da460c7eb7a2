"""PEP 658 core metadata of wheels, extracted once and cached beside the blob in the store."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zipfile
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from sync.store import blob_path, metadata_blob_path

logger = logging.getLogger(__name__)


def _metadata_member(archive: zipfile.ZipFile, filename: str) -> str | None:
    candidates = [name for name in archive.namelist() if name.count("/") == 1 and name.endswith(".dist-info/METADATA")]
    if len(candidates) == 1:
        return candidates[0]
    try:
        project, version, _, _ = parse_wheel_filename(filename)
    except (InvalidWheelFilename, ValueError):
        return None
    # Several .dist-info folders: the one of this wheel's own name and version.
    for name in candidates:
        stem = name.split("/", 1)[0].removesuffix(".dist-info")
        dist, _, dist_version = stem.rpartition("-")
        if canonicalize_name(dist) == project and dist_version == str(version):
            return name
    return None


def core_metadata_path(sha256: str, filename: str) -> Path | None:
    """The cached METADATA of a stored wheel, extracted on first use; None when it has none.

    The cache is written by rename, so concurrent publishes of several collections are safe.
    """
    if not filename.endswith(".whl"):
        return None
    cached = metadata_blob_path(sha256)
    if cached.exists():
        return cached
    try:
        with zipfile.ZipFile(blob_path(sha256)) as archive:
            member = _metadata_member(archive, filename)
            if member is None:
                logger.warning("no METADATA found in %s (%s)", filename, sha256)
                return None
            data = archive.read(member)
    except (OSError, zipfile.BadZipFile, KeyError) as error:
        logger.warning("cannot read METADATA of %s (%s): %s", filename, sha256, error)
        return None
    fd, tmp = tempfile.mkstemp(dir=cached.parent, prefix=".metadata-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, cached)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return cached


def file_sha256(path: Path) -> str:
    """sha256 of a small file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
