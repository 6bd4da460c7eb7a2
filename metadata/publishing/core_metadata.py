"""PEP 658 core metadata of wheels, extracted once and cached beside the blob in the store."""

from __future__ import annotations

import logging
import os
import time
import zipfile
from pathlib import Path

from django.conf import settings
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from core.fs import atomic_write
from sync.blobstore import blob_path, metadata_blob_path

logger = logging.getLogger(__name__)

# A METADATA file is a few KB; the largest real ones (long descriptions) a few hundred KB. Anything
# bigger is refused rather than read into memory: the wheel is published without a .metadata file.
MAX_METADATA_BYTES = 4 * 1024 * 1024
# A temporary extract older than this is left by a crash (an extract takes milliseconds).
STALE_TMP_SECONDS = 60
TMP_PREFIX = ".metadata-"


def metadata_tmp_dir() -> Path:
    """Where extracts are written before their rename into the store: one folder, so that what a crash
    leaves is found without walking the store. On the store's file system (MIRROR_ROOT), outside the
    sync's own temporary folder, which the sync empties."""
    return Path(settings.MIRROR_ROOT) / "publish-work" / "tmp"


def metadata_tmp_clean(*, older_than: float = STALE_TMP_SECONDS) -> int:
    """Remove temporary extracts a crashed publish left (those of a running publish are younger)."""
    cutoff = time.time() - older_than
    removed = 0
    try:
        with os.scandir(metadata_tmp_dir()) as entries:
            for entry in entries:
                if not entry.name.startswith(TMP_PREFIX):
                    continue
                try:
                    if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                        os.unlink(entry.path)
                        removed += 1
                except FileNotFoundError:  # another publish renamed or removed it meanwhile
                    pass
    except FileNotFoundError:
        return 0
    if removed:
        logger.info("removed %s stale temporary metadata extracts", removed)
    return removed


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


def _read_metadata(sha256: str, filename: str) -> bytes | None:
    try:
        with zipfile.ZipFile(blob_path(sha256)) as archive:
            member = _metadata_member(archive, filename)
            if member is None:
                logger.warning("no METADATA found in %s (%s)", filename, sha256)
                return None
            info = archive.getinfo(member)
            if info.file_size > MAX_METADATA_BYTES:
                logger.warning(
                    "METADATA of %s (%s) is larger than %s bytes (%s): no .metadata published",
                    filename,
                    sha256,
                    MAX_METADATA_BYTES,
                    info.file_size,
                )
                return None
            # Read with a limit too: the size in the archive's directory may lie.
            with archive.open(info) as member_file:
                data = member_file.read(MAX_METADATA_BYTES + 1)
    except MemoryError:
        logger.warning("cannot read METADATA of %s (%s): out of memory", filename, sha256)
        return None
    except Exception as error:
        # A damaged wheel (its sha256 came from the index, so the sync's archive check was skipped):
        # encrypted members (RuntimeError), unsupported compression (NotImplementedError), a corrupt
        # deflate stream (zlib.error), a bad CRC, a broken directory… It is published without a
        # .metadata file; it must never fail the publication of its collection.
        logger.warning("cannot read METADATA of %s (%s): %s: %s", filename, sha256, type(error).__name__, error)
        return None
    if len(data) > MAX_METADATA_BYTES:
        logger.warning(
            "METADATA of %s (%s) is larger than %s bytes: no .metadata published", filename, sha256, MAX_METADATA_BYTES
        )
        return None
    return data


def core_metadata_extract(sha256: str, filename: str) -> Path | None:
    """Extract a stored wheel's METADATA into the cache beside the blob (replacing what is there).

    The cache is written by rename, so concurrent publishes of several collections are safe.
    """
    if not filename.endswith(".whl"):
        return None
    data = _read_metadata(sha256, filename)
    if data is None:
        return None
    cached = metadata_blob_path(sha256)
    tmp_dir = metadata_tmp_dir()
    tmp_dir.mkdir(parents=True, exist_ok=True)
    return atomic_write(cached, data, tmp_dir=tmp_dir, prefix=TMP_PREFIX)


def core_metadata_path(sha256: str, filename: str) -> Path | None:
    """The cached METADATA of a stored wheel, extracted on first use; None when it has none."""
    if not filename.endswith(".whl"):
        return None
    cached = metadata_blob_path(sha256)
    if cached.exists():
        return cached
    return core_metadata_extract(sha256, filename)
