"""Linking: one catalogue file (and its PEP 658 .metadata) hardlinked from the store into the tree."""

from __future__ import annotations

import logging
import os
from typing import Any

from core.fs import file_sha256, is_sha256, sha256_fanout
from metadata.publishing.core_metadata import core_metadata_extract, core_metadata_path
from metadata.publishing.helper import LinkOrder
from metadata.publishing.render import PublishedFile, package_location
from metadata.publishing.tree import CollectionTree
from sync.blobstore import store_root
from sync.engine.names import UnsafeFilename, check_filename

logger = logging.getLogger(__name__)

METADATA_HASH_CACHE = 100_000  # blobs whose .metadata hash is remembered within one run


class Linker:
    """Plans the links of one publish's files into its tree (what each file's published form is, and which
    store files it needs at which tree paths)."""

    def __init__(self, tree: CollectionTree) -> None:
        self.tree = tree
        self.slug = tree.slug
        self._metadata_hashes: dict[str, str] = {}
        # Store paths as strings, built once per blob and run: pathlib and the settings lookup of
        # blob_path cost more than the link itself in a full publish.
        self._store = str(store_root())
        self._blob_paths: dict[str, tuple[str, str]] = {}

    def _blob(self, sha256: str) -> tuple[str, str]:
        """(blob path, its .metadata path) in the store, as blob_path and metadata_blob_path."""
        paths = self._blob_paths.get(sha256)
        if paths is None:
            if len(self._blob_paths) > METADATA_HASH_CACHE:
                self._blob_paths.clear()
            blob = f"{self._store}/{sha256_fanout(sha256)}"
            paths = self._blob_paths[sha256] = (blob, f"{blob}.metadata")
        return paths

    def plan_file(self, file: Any, old: tuple[str, str] | None, orders: list[LinkOrder]) -> PublishedFile | None:
        """The published form of one file, with the links it needs added to `orders` (made by the caller:
        ProjectPages, through TreeWrites); None when the file cannot be published (logged why).

        The file name and hash become a path: a row that is not a safe distribution file name with a
        sha256 hex digest is skipped, whatever wrote it into the catalogue. (The sync parsed the name in
        full when it took it; here it is checked as a path segment with a distribution's ending.)
        """
        try:
            check_filename(file.filename)
        except UnsafeFilename as error:
            logger.error("%s: file %r refused: %s", self.slug, file.filename, error)
            return None
        if not is_sha256(file.sha256):
            logger.error("%s: file %r refused: sha256 %r is not 64 hex digits", self.slug, file.filename, file.sha256)
            return None
        location = package_location(file.sha256, file.filename)
        blob, blob_metadata = self._blob(file.sha256)
        try:
            size = file.size if file.size is not None else os.stat(blob).st_size
        except FileNotFoundError:
            self.blob_missing(file)
            return None
        known = old is not None and old[0] == file.sha256
        metadata_sha256 = self.metadata_digest(file, old[1] if known else "")
        # Linked even when known: a changed project may be one whose blob verify --repair replaced.
        orders.append(LinkOrder(blob, location, package=True))
        if metadata_sha256:
            orders.append(LinkOrder(blob_metadata, location + ".metadata", package=False))
        return PublishedFile.of(file, size=size, core_metadata_sha256=metadata_sha256)

    def blob_missing(self, file: Any) -> None:
        logger.error(
            "%s: blob of %s (%s) is missing from the store: not published", self.slug, file.filename, file.sha256
        )

    def metadata_digest(self, file: Any, recorded_sha256: str) -> str:
        """The sha256 of the wheel's cached .metadata ("" when it has none), extracted when missing.

        The cache is hashed once per blob and run, and checked against what the state recorded: a
        cached extract that no longer hashes to it (damaged on disk) is extracted again.
        """
        if not file.filename.endswith(".whl"):
            return ""
        digest = self._metadata_hashes.get(file.sha256)
        if digest is None:
            path = core_metadata_path(file.sha256, file.filename)
            if path is None:
                return ""
            digest = file_sha256(path)
            if recorded_sha256 and digest != recorded_sha256:
                logger.warning(
                    "%s: cached metadata of %s (%s) does not match the published hash: extracting it again",
                    self.slug,
                    file.filename,
                    file.sha256,
                )
                path = core_metadata_extract(file.sha256, file.filename)
                if path is None:
                    return ""
                digest = file_sha256(path)
            if len(self._metadata_hashes) > METADATA_HASH_CACHE:
                self._metadata_hashes.clear()
            self._metadata_hashes[file.sha256] = digest
        return digest
