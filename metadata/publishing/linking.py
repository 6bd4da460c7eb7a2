"""Linking: one catalogue file (and its PEP 658 .metadata) hardlinked from the store into the tree."""

from __future__ import annotations

import logging
from typing import Any

from core.fs import file_sha256, is_sha256, sha256_fanout
from metadata.publishing.core_metadata import core_metadata_extract, core_metadata_path
from metadata.publishing.render import PublishedFile, package_location
from metadata.publishing.tree import CollectionTree
from sync.blobstore import blob_path, store_root
from sync.engine.names import UnsafeFilename, check_filename

logger = logging.getLogger(__name__)

METADATA_HASH_CACHE = 100_000  # blobs whose .metadata hash is remembered within one run


class Linker:
    """Links the files of one publish into its tree, counting them in `stats["files_linked"]`."""

    def __init__(self, tree: CollectionTree, stats: dict[str, int]) -> None:
        self.tree = tree
        self.slug = tree.slug
        self.stats = stats
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

    def publish_file(self, file: Any, old: tuple[str, str] | None) -> PublishedFile | None:
        """Link one file (and its .metadata) into the tree unless it is there already.

        The file name and hash become a path: a row that is not a safe distribution file name with a
        sha256 hex digest is skipped (logged), whatever wrote it into the catalogue. (The sync parsed the
        name in full when it took it; here it is checked as a path segment with a distribution's ending.)
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
        known = old is not None and old[0] == file.sha256
        metadata_sha256 = old[1] if known else ""
        # Linked even when known: a changed project may be one whose blob verify --repair replaced.
        try:
            if self.tree.link_data_file(self._blob(file.sha256)[0], location):
                self.stats["files_linked"] += 1
        except FileNotFoundError:
            logger.error(
                "%s: blob of %s (%s) is missing from the store: not published",
                self.slug,
                file.filename,
                file.sha256,
            )
            return None
        metadata_sha256 = self.link_metadata(file, location, metadata_sha256)
        size = file.size if file.size is not None else blob_path(file.sha256).stat().st_size
        return PublishedFile.of(file, size=size, core_metadata_sha256=metadata_sha256)

    def link_metadata(self, file: Any, location: str, recorded_sha256: str) -> str:
        """Link the wheel's cached .metadata; its sha256 ("" when it has none).

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
        self.tree.link_data_file(self._blob(file.sha256)[1], location + ".metadata")
        return digest
