"""Repodata: primary.json.gz and primary.sqlite.gz written into the tree, and the repomd.json that names them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from metadata.publishing.blocks import write_blocks_gz
from metadata.publishing.parts import OpenData
from metadata.publishing.render import iso_time
from metadata.publishing.tree import CollectionTree


def timestamp_now() -> str:
    """The commit moment, as iso_time."""
    return iso_time(datetime.now(UTC))


def members_data_write(tree: CollectionTree, suffix: str, write_members: Callable[[Any], OpenData]) -> dict:
    """Write a repodata file of gzip members that `write_members(out)` writes (and whose open content it
    describes); its repomd entry. The compressed bytes are hashed as they go to the disk."""
    opened: list[OpenData] = []

    def write(compressed: Any) -> None:
        opened.append(write_members(compressed))

    location, sha256, size = tree.write_data_stream("repodata", suffix, write)
    return {"location": location, "sha256": sha256, "size": size, "open_sha256": opened[0].sha256,
            "open_size": opened[0].size}  # fmt: skip


def primary_db_write(tree: CollectionTree, stats: dict[str, int]) -> dict:
    """primary.sqlite.gz: the committed primary DB (nobody changes it until the next publish), from the
    cached members of its unchanged blocks (metadata.publishing.blocks)."""
    cache = tree.work / "primary-blocks.sqlite"
    return members_data_write(
        tree, "primary.sqlite.gz", lambda out: write_blocks_gz(tree.primary_db_path, cache, out, stats)
    )


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
