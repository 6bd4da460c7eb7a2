"""The updates since the base: what makes a publish's repodata cost follow the change, not the collection.

repomd.json names a base (`primary`, `primary_db`: every project as it was at the last rebase) and the
updates since it (`primary_updates`, `primary_db_updates`: every project changed since the rebase, as it is
now, and the names no longer published). A reader takes the base, drops the projects that the updates
name, and adds the updates' projects. Rewriting and hashing the whole primary data each revision grew with
the collection (hundreds of MB at 300,000 projects, for every revision, and for every mirror's rsync);
between rebases the base files keep their names and bytes, so a publish writes, and a mirror copies, only
the updates.

The updates grow with every publish; once they name more than 1/UPDATES_SHARE of the published projects,
the next publish rebases (writes a new base from the cached parts and blocks, and empty updates). So an
incremental publish costs what changed since the rebase, and one publish in about
projects / (UPDATES_SHARE x changes per publish) pays for a whole base.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

from core.fs import ThreadedSha256
from metadata.publishing.parts import GZIP_LEVEL, PRIMARY_FOOTER, OpenData, join_lines
from metadata.publishing.primary import export_updates_sqlite
from metadata.publishing.repodata import members_data_write
from metadata.publishing.state import PublishState
from metadata.publishing.tree import CollectionTree

UPDATES_SHARE = 32
_CHUNK = 1 << 20


def rebase_due(*, updated: int, projects: int) -> bool:
    """Have the updates outgrown their share of the collection?"""
    return updated * UPDATES_SHARE > projects


def removed_line(name: str) -> bytes:
    """An updates line for a project that is no longer published."""
    return b'{"name":' + _json_string(name) + b',"removed":true}'


def _json_string(text: str) -> bytes:
    return json.dumps(text, ensure_ascii=False).encode()


def updates_header(slug: str, base_sha256: str) -> bytes:
    """primary.json's header, with the sha256 of the base it updates."""
    slug_json, base_json = _json_string(slug), _json_string(base_sha256)
    return b'{"version":1,"collection":' + slug_json + b',"base":' + base_json + b',"projects":[\n'


def _gzip_write(tree: CollectionTree, suffix: str, chunks: Callable[[], Iterator[bytes]], base_sha256: str) -> dict:
    """A data file of one gzip member holding chunks(); its repomd entry, which names the base it updates."""

    def write(out: BinaryIO) -> OpenData:
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        size = 0
        with ThreadedSha256() as digest:
            for chunk in chunks():
                size += len(chunk)
                digest.update(chunk)
                out.write(compressor.compress(chunk))
            out.write(compressor.flush())
            return OpenData(sha256=digest.hexdigest(), size=size)

    return members_data_write(tree, suffix, write) | {"base": base_sha256}


def updates_json_write(tree: CollectionTree, state: PublishState, slug: str, base_sha256: str) -> dict:
    """primary-updates.json.gz, from the state's open transaction: primary.json's header (plus the base's
    sha256), the line of every project changed since the base, by name, and footer; its repomd entry."""

    def chunks() -> Iterator[bytes]:
        yield updates_header(slug, base_sha256)
        yield from join_lines(line if line is not None else removed_line(name) for name, line in state.updated_lines())
        yield PRIMARY_FOOTER

    return _gzip_write(tree, "primary-updates.json.gz", chunks, base_sha256)


def updates_db_write(tree: CollectionTree, state: PublishState, slug: str, base_sha256: str) -> dict:
    """primary-updates.sqlite.gz (made in the work folder, then compressed into the tree); its repomd entry."""
    path = tree.work / "primary-updates.sqlite"
    export_updates_sqlite(state, path, slug, base_sha256)

    def chunks() -> Iterator[bytes]:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                yield chunk

    try:
        return _gzip_write(tree, "primary-updates.sqlite.gz", chunks, base_sha256)
    finally:
        path.unlink(missing_ok=True)
