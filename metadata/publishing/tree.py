"""The file system side of publication: one collection's tree and its work area (paths, locking,
data files, staged pages, pruning). The commit protocol that switches a tree to a new revision is in
metadata.publishing.commit.

Layout (MIRROR_ROOT must hold the store, pub/ and publish-work/ on ONE file system, so that
packages are hardlinks and every switch is a rename):

    pub/<slug>/...                      the published tree (see docs/publishing.md)
    publish-work/<slug>/lock            serializes publishes of one collection
    publish-work/<slug>/state.sqlite    what the tree holds (metadata.publishing.state), and the
                                        journal row: the commit record of a publish
    publish-work/<slug>/primary.sqlite  the content of the current primary.sqlite.gz, kept up to date
    publish-work/<slug>/staging/        new index pages and repomd.json (flat names, see flat_name), and
                                        the folders of new projects (their pages, moved whole)
    publish-work/<slug>/intent.log      data files linked by the publish in progress
    publish-work/links/<blob>/<n>       spare copies of a store file that has too many links (EMLINK)
    publish-work/<slug>/tmp/            every temporary file of a publish (repodata being written,
                                        links and copies before their rename): never in pub/, so a
                                        reader of the tree (rsync) only ever sees finished files

Every path below the tree comes from the catalogue in the end, so each one is checked to stay inside
the tree (CollectionTree.path) even though the publisher validates names and hashes first.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from django.conf import settings

from core.fs import HashingWriter, file_sha256
from metadata.publishing.helper import DataLinks, PageOrder, StagedPages

logger = logging.getLogger(__name__)

REPOMD = "repodata/repomd.json"


class PublishBusy(RuntimeError):
    """Another publish of the same collection holds its lock."""


def pub_root() -> Path:
    return Path(settings.MIRROR_ROOT) / "pub"


def work_root() -> Path:
    return Path(settings.MIRROR_ROOT) / "publish-work"


def spares_root() -> Path:
    """Spare copies of store files with too many links (metadata.publishing.linking_inodes), shared by all
    collections."""
    return work_root() / "links"


class CollectionTree:
    """Paths and file operations of one collection's tree."""

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.root = pub_root() / slug
        self.work = work_root() / slug
        self.staging = self.work / "staging"
        self.state_path = self.work / "state.sqlite"
        self.primary_db_path = self.work / "primary.sqlite"
        self.intent_path = self.work / "intent.log"
        self.tmp = self.work / "tmp"
        self.spares = spares_root()
        # Strings, not Paths, on the hot paths: a full publish builds millions of paths, and pathlib's
        # parsing cost a fifth of it (a cProfile of 200,000 files).
        self._root_str = str(self.root)
        self._staging_str = str(self.staging)
        self.links = DataLinks(self._root_str, self.tmp, self.spares)
        self._dirs = self.links.dirs  # folders known to exist, shared with the links' own
        self.pages = StagedPages(self._root_str, self._staging_str)
        self._intent: Any = None
        self._intent_lock = threading.Lock()
        self.staged = 0

    # -- locking ------------------------------------------------------------------------------

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One publish of a collection at a time; PublishBusy at once when another one runs.

        Not waiting matters: a long full publish would otherwise tie up every queue worker that
        picks up a publish of the same collection. The next publish picks the changes up anyway.
        """
        self.work.mkdir(parents=True, exist_ok=True)
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(exist_ok=True)
        with open(self.work / "lock", "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PublishBusy("busy: another publish is running; the next run picks the changes up") from None
            try:
                yield
            finally:
                self.intent_close()
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- paths --------------------------------------------------------------------------------

    def path(self, relative: str) -> Path:
        """The tree path of `relative`; ValueError when it would resolve outside the tree.

        Checked lexically (no symlink is ever created in a tree, and resolving 1.7 M paths
        through the file system would cost seconds): no absolute path, no '..', nothing that
        normalizes to something else.
        """
        return Path(self.path_str(relative))

    def path_str(self, relative: str) -> str:
        """CollectionTree.path as a string (the same check)."""
        return f"{self._root_str}/{self.path_relative(relative)}"

    def path_relative(self, relative: str) -> str:
        """`relative`, once checked as CollectionTree.path checks it."""
        if (
            not relative
            or relative[0] == "/"
            or relative == ".."
            or relative.startswith("../")
            or "\x00" in relative
            or os.path.normpath(relative) != relative  # '..' inside, '//', './', a trailing '/'
        ):
            raise ValueError(f"path {relative!r} is outside the tree of collection {self.slug!r}")
        return relative

    # -- reading the tree ---------------------------------------------------------------------

    def read_repomd(self) -> dict | None:
        try:
            return json.loads((self.root / REPOMD).read_bytes())
        except FileNotFoundError:
            return None

    def page_names_on_disk(self) -> list[str]:
        simple = self.root / "simple"
        if not simple.is_dir():
            return []
        with os.scandir(simple) as entries:
            return sorted(entry.name for entry in entries if entry.is_dir(follow_symlinks=False))

    # -- data files (written straight into the tree: content-addressed, never overwritten) -----

    def _ensure_dir(self, relative_dir: str) -> None:
        if relative_dir in self._dirs:
            return
        (self.root / relative_dir).mkdir(parents=True, exist_ok=True)
        self._dirs.add(relative_dir)

    def _log_intent(self, relative: str) -> None:
        with self._intent_lock:  # the repodata files are written from two threads
            if self._intent is None:
                self._intent = open(self.intent_path, "a", encoding="utf-8")  # noqa: SIM115
            self._intent.write(relative + "\n")

    def link_data_file(self, source: Path | str, relative: str) -> bool:
        """Hardlink a store blob into the tree (copy across file systems). True when created or changed."""
        self.path_str(relative)  # refuses a path outside the tree
        self._log_intent(relative)
        return self.links.link(source, relative)

    def log_link(self, relative: str) -> None:
        """Note a data file about to be linked elsewhere (metadata.publishing.helper): checked to stay inside
        the tree, and logged before it exists, as link_data_file does."""
        self.path_str(relative)
        self._log_intent(relative)

    def write_data_stream(self, relative_dir: str, suffix: str, write: Callable[[Any], None]) -> tuple[str, str, int]:
        """Write a data file through `write(handle)`, name it <sha256>-<suffix>; (relative, sha256, size)."""
        self._ensure_dir(relative_dir)
        self.tmp.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.tmp, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as raw:
                hashing = HashingWriter(raw)
                write(hashing)
            os.chmod(tmp, 0o644)
            relative = f"{relative_dir}/{hashing.sha256.hexdigest()}-{suffix}"
            if self.path(relative).exists():
                Path(tmp).unlink()  # the same content is already there: keep its inode
            else:
                self._log_intent(relative)
                os.replace(tmp, self.path(relative))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return relative, hashing.sha256.hexdigest(), hashing.size

    # -- staged pages -------------------------------------------------------------------------

    def clean_temporaries(self) -> int:
        """Remove what a crashed publish left in its tmp/ (under the lock: nobody else writes there),
        and the `.tmp-*` that versions before tmp/ existed left in repodata/."""
        removed = 0
        for directory in (self.tmp, self.root / "repodata"):
            with contextlib.suppress(FileNotFoundError), os.scandir(directory) as entries:
                for entry in entries:
                    if directory == self.tmp or entry.name.startswith(".tmp-"):
                        Path(entry.path).unlink(missing_ok=True)
                        removed += 1
        return removed

    def reset_staging(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir(parents=True)
        self.staged = 0

    def stage(self, relative: str, data: bytes) -> bool:
        """Stage a page unless the tree already has these exact bytes. True when staged."""
        staged = self.pages.stage(relative, flat_name(self.path_relative(relative)), data)
        self.staged += staged
        return staged

    def page_order(self, relative_dir: str, pages: dict[str, bytes]) -> PageOrder:
        """The pages of one folder (a project's) as an order for StagedPages (the paths checked here)."""
        self.path_relative(relative_dir)
        folder_flat = flat_name(relative_dir)
        entries = [(name, flat_name(f"{relative_dir}/{name}"), data) for name, data in pages.items()]
        return PageOrder(relative_dir, folder_flat, entries)

    def stage_pages(self, relative_dir: str, pages: dict[str, bytes]) -> int:
        """Stage the pages of one folder (a project's); how many were staged.

        A folder the tree does not have yet (a new project's) is staged whole and renamed into place
        at the switch in one rename, instead of a mkdir and a rename per page: in a first publish that
        is most of the switch. Otherwise each page is staged unless the tree has its exact bytes.
        """
        staged = self.pages.stage_folder(self.page_order(relative_dir, pages))
        self.staged += staged
        return staged

    def stage_stream(self, relative: str, chunks: Iterable[bytes]) -> bool:
        """Stage a large page written in chunks; dropped again when equal to the tree's."""
        target = self.staging / flat_name(relative)
        digest = hashlib.sha256()
        with open(target, "wb") as handle:
            for chunk in chunks:
                digest.update(chunk)
                handle.write(chunk)
        current = self.path(relative)
        if current.exists() and file_sha256(current) == digest.hexdigest():
            target.unlink()
            return False
        self.staged += 1
        return True

    # -- the work area -------------------------------------------------------------------------

    def state_remove(self) -> None:
        """Forget the state and the primary DB (a fresh publish rebuilds both)."""
        for path in (self.state_path, self.primary_db_path):
            path.unlink(missing_ok=True)
            path.with_name(path.name + "-journal").unlink(missing_ok=True)

    def data_file_exists(self, relative: str) -> bool:
        try:
            return bool(relative) and self.path(relative).is_file()
        except ValueError:
            return False

    def replace_page(self, source: Path, target: Path) -> None:
        """Rename a staged page into place (its folder is made when it is a new project's)."""
        try:
            os.replace(source, target)
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)

    def replace_folder(self, source: Path, target: Path) -> None:
        """Rename a staged folder into place; page by page when the tree has that folder after all
        (it cannot be replaced whole: a crash in the middle of this left part of it there, say)."""
        for attempt in range(2):
            try:
                os.rename(source, target)
                return
            except FileNotFoundError:
                if attempt:
                    raise
                target.parent.mkdir(parents=True, exist_ok=True)  # the tree's first pages
            except OSError as error:
                if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
                break
        with os.scandir(source) as entries:
            for entry in entries:
                self.replace_page(Path(entry.path), target / entry.name)
        source.rmdir()

    def discard_work(self) -> list[str]:
        """Throw away an uncommitted publish; return the data files it had linked (for garbage)."""
        self.intent_close()
        shutil.rmtree(self.staging, ignore_errors=True)
        linked: list[str] = []
        if self.intent_path.exists():
            linked = [line for line in self.intent_path.read_text().splitlines() if line]
            self.intent_path.unlink()
        return linked

    def intent_close(self) -> None:
        """Close the log of linked data files (before the flush of the commit point)."""
        if self._intent is not None:
            self._intent.close()
            self._intent = None

    # -- pruning ------------------------------------------------------------------------------

    def remove_data_file(self, relative: str) -> None:
        target = self.path(relative)
        target.unlink(missing_ok=True)
        if relative.startswith("packages/"):
            try:
                target.parent.rmdir()  # the <sha256>/ folder, once empty
                self._dirs.discard(relative.rpartition("/")[0])  # a later link makes it again
            except OSError:
                pass


def flat_name(relative: str) -> str:
    """Staged pages live in one folder: percent-encode, then '/' becomes '+'. Reversible for any
    path (a quoted path holds no '+'), and the usual names stay readable: simple+numpy+index.html."""
    return quote(relative, safe="/").replace("/", "+")


def unflat_name(flat: str) -> str:
    """The tree path of a staged page's flat name."""
    return unquote(flat.replace("+", "/"))
