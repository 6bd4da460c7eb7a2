"""Layout of the content-addressed origin store under MIRROR_ROOT/store/."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def store_root() -> Path:
    """MIRROR_ROOT/store: blobs named by their sha256."""
    return Path(settings.MIRROR_ROOT) / "store"


def store_tmp_dir() -> Path:
    """Where downloads stream before their hash is known; on the store's file system so rename is atomic."""
    return store_root() / "tmp"


def blob_path(sha256: str) -> Path:
    """MIRROR_ROOT/store/<aa>/<bb>/<sha256>."""
    if not SHA256_RE.match(sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")
    return store_root() / sha256[:2] / sha256[2:4] / sha256


def metadata_blob_path(sha256: str) -> Path:
    """The PEP 658 core metadata extracted from the blob with this sha256, kept beside it."""
    return blob_path(sha256).with_name(f"{sha256}.metadata")
