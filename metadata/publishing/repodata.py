"""Repodata: primary.json.gz and primary.sqlite.gz written into the tree, and the repomd.json that names them."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from core.fs import HashingWriter
from metadata.publishing.render import iso_time
from metadata.publishing.tree import CollectionTree

GZIP_LEVEL = 1  # repodata is rebuilt every revision: speed over the last few percent of size


def timestamp_now() -> str:
    """The commit moment, as iso_time."""
    return iso_time(datetime.now(UTC))


def gzip_data_write(tree: CollectionTree, suffix: str, write_open: Callable[[Any], None]) -> dict:
    """Write a repodata file through gzip (no name, no time: deterministic); its repomd entry."""
    opened_info: dict[str, Any] = {}

    def write(compressed: Any) -> None:
        with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=GZIP_LEVEL) as zipped:
            opened = HashingWriter(zipped)
            write_open(opened)
        opened_info.update(open_sha256=opened.sha256.hexdigest(), open_size=opened.size)

    location, sha256, size = tree.write_data_stream("repodata", suffix, write)
    return {"location": location, "sha256": sha256, "size": size, **opened_info}


def primary_db_write(tree: CollectionTree) -> dict:
    """primary.sqlite.gz: the committed primary DB (nobody changes it until the next publish)."""

    def copy(out: Any) -> None:
        with open(tree.primary_db_path, "rb") as source:
            shutil.copyfileobj(source, out, 1024 * 1024)

    return gzip_data_write(tree, "primary.sqlite.gz", copy)


def repomd_bytes(
    *, slug: str, number: int, timestamp: str, upstream_serial: int, counts: dict, data: dict[str, dict]
) -> bytes:
    """The repomd.json of a revision: what a mirror compares, and what names the repodata files."""
    repomd = {
        "version": 1,
        "collection": slug,
        "revision": number,
        "timestamp": timestamp,
        "upstream_serial": upstream_serial,
        "counts": counts,
        "data": data,
    }
    return (json.dumps(repomd, indent=2) + "\n").encode()
