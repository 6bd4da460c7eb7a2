"""The file system side of publication: one collection's tree, its work area and its commit protocol.

Layout (MIRROR_ROOT must hold the store, pub/ and publish-work/ on ONE file system, so that
packages are hardlinks and every switch is a rename):

    pub/<slug>/...                      the published tree (see docs/publishing.md)
    publish-work/<slug>/lock            serializes publishes of one collection
    publish-work/<slug>/state.sqlite    what the tree holds (metadata.publishing.state), and the
                                        journal row: the commit record of a publish
    publish-work/<slug>/primary.sqlite  the content of the current primary.sqlite.gz, kept up to date
    publish-work/<slug>/staging/        new index pages and repomd.json (flat names, see _flat)
    publish-work/<slug>/intent.log      data files linked by the publish in progress

A publish changes the state in one SQLite transaction, puts data files (packages, .metadata,
repodata) in the tree under content-addressed names, stages the changed pages, flushes all of it to
the disk, then commits the state's transaction with the journal row in it: the commit point (SQLite's
COMMIT is atomic and durable). Then it applies the journal: project pages renamed into place, then
the root pages, then removed pages unlinked, the Revision row written, repomd.json renamed last, all
of it flushed again before the journal row is deleted. Before the commit a crash (or a power loss)
leaves the previous revision whole, the state rolls back, and the next publish throws the staging
away; after, the next publish finishes applying it.

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
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from django.conf import settings

from core.fs import HashingWriter, atomic_write, file_sha256, fsync_dir, fsync_file, sync_filesystem

logger = logging.getLogger(__name__)

REPOMD = "repodata/repomd.json"
ROOT_PAGES = ("simple/index.html", "simple/index.json")


class PublishBusy(RuntimeError):
    """Another publish of the same collection holds its lock."""


def pub_root() -> Path:
    return Path(settings.MIRROR_ROOT) / "pub"


def work_root() -> Path:
    return Path(settings.MIRROR_ROOT) / "publish-work"


class CollectionTree:
    """Paths and file operations of one collection's tree."""

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.root = pub_root() / slug
        self.work = work_root() / slug
        self.staging = self.work / "staging"
        self.state_path = self.work / "state.sqlite"
        self.primary_db_path = self.work / "primary.sqlite"
        self.next_path = self.work / "next.sqlite"  # the working copy of versions before the journal row
        self.journal_path = self.work / "journal.json"  # the commit record of those versions
        self.intent_path = self.work / "intent.log"
        self._dirs: set[str] = set()
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
        with open(self.work / "lock", "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PublishBusy("busy: another publish is running; the next run picks the changes up") from None
            try:
                yield
            finally:
                if self._intent is not None:
                    self._intent.close()
                    self._intent = None
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- paths --------------------------------------------------------------------------------

    def path(self, relative: str) -> Path:
        """The tree path of `relative`; ValueError when it would resolve outside the tree.

        Checked lexically (no symlink is ever created in a tree, and resolving 1.7 M paths
        through the file system would cost seconds): no absolute path, no '..', nothing that
        normalizes to something else.
        """
        if (
            not relative
            or relative[0] == "/"
            or relative == ".."
            or relative.startswith("../")
            or "\x00" in relative
            or os.path.normpath(relative) != relative  # '..' inside, '//', './', a trailing '/'
        ):
            raise ValueError(f"path {relative!r} is outside the tree of collection {self.slug!r}")
        return self.root / relative

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

    def link_data_file(self, source: Path, relative: str) -> bool:
        """Hardlink a store blob into the tree (copy across file systems). True when created."""
        target = self.path(relative)
        parent, _, _ = relative.rpartition("/")
        grandparent = parent.rpartition("/")[0]
        self._ensure_dir(grandparent)
        try:
            os.mkdir(self.root / parent)
        except FileExistsError:
            pass
        self._log_intent(relative)
        try:
            os.link(source, target)
        except FileExistsError:
            return self._relink_if_replaced(source, target)
        except OSError as error:
            if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                raise
            self._copy_into(source, target)
        return True

    def _relink_if_replaced(self, source: Path, target: Path) -> bool:
        """Point the tree at the store's blob again if the blob was replaced (verify --repair writes a new inode,
        while the tree still links the damaged one). True when the tree's file changed."""
        source_stat, target_stat = os.stat(source), os.stat(target)
        if source_stat.st_dev != target_stat.st_dev:  # a copy across file systems: compare what is cheap
            if source_stat.st_size == target_stat.st_size:
                return False
            self._copy_into(source, target)
            return True
        if source_stat.st_ino == target_stat.st_ino:
            return False
        temporary = target.with_name(f".relink-{uuid.uuid4().hex}")
        os.link(source, temporary)
        os.replace(temporary, target)
        return True

    def _copy_into(self, source: Path, target: Path) -> None:
        def copy(out: Any) -> None:
            with open(source, "rb") as handle:
                shutil.copyfileobj(handle, out, 1024 * 1024)

        atomic_write(target, copy, prefix=".copy-")

    def write_data_stream(self, relative_dir: str, suffix: str, write: Callable[[Any], None]) -> tuple[str, str, int]:
        """Write a data file through `write(handle)`, name it <sha256>-<suffix>; (relative, sha256, size)."""
        self._ensure_dir(relative_dir)
        directory = self.root / relative_dir
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
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
        """Remove what a crashed repodata write left in repodata/ (under the lock: nobody writes there)."""
        removed = 0
        with contextlib.suppress(FileNotFoundError), os.scandir(self.root / "repodata") as entries:
            for entry in entries:
                if entry.name.startswith(".tmp-"):
                    Path(entry.path).unlink(missing_ok=True)
                    removed += 1
        return removed

    def reset_staging(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir(parents=True)
        self.staged = 0

    def stage(self, relative: str, data: bytes) -> bool:
        """Stage a page unless the tree already has these exact bytes. True when staged."""
        try:
            with open(self.path(relative), "rb") as handle:
                if handle.read(len(data) + 1) == data:
                    return False
        except (FileNotFoundError, NotADirectoryError):
            pass
        (self.staging / _flat(relative)).write_bytes(data)
        self.staged += 1
        return True

    def stage_stream(self, relative: str, chunks: Iterable[bytes]) -> bool:
        """Stage a large page written in chunks; dropped again when equal to the tree's."""
        target = self.staging / _flat(relative)
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

    # -- commit -------------------------------------------------------------------------------

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

    def commit(self, commit_state: Callable[[], None]) -> None:
        """The commit point: `commit_state` commits the state's transaction with the journal row in it.

        Everything the revision needs (data files, links, staged pages) is flushed to the disk
        first: after a power loss the journal row never exists without what it refers to.
        """
        if self._intent is not None:
            self._intent.close()
            self._intent = None
        sync_filesystem(self.work)
        commit_state()

    def finish_journal(self, clear: Callable[[], None]) -> None:
        """After apply_journal: flush the switch to the disk, then `clear` the journal (row)."""
        sync_filesystem(self.work)
        clear()
        self.journal_path.unlink(missing_ok=True)
        self.intent_path.unlink(missing_ok=True)
        shutil.rmtree(self.staging, ignore_errors=True)

    def read_journal(self) -> dict | None:
        """The journal file of an older version's crashed publish (None: there is none)."""
        try:
            return json.loads(self.journal_path.read_text())
        except FileNotFoundError:
            return None

    def apply_journal(self, record: dict, record_revision: Callable[[dict], Any]) -> Any:
        """Switch the tree to the journal's revision; idempotent, so a crash here is finished later.

        finish_journal follows, once this returns.

        Order, so that a reader never follows a link to a page that is not there yet: project pages,
        then the root pages, then removed pages go; then the Revision row (so that a probe never
        meets a repomd.json the database does not know), then repomd.json, last.
        """
        repomd_flat = _flat(REPOMD)
        root_flat = {_flat(page) for page in ROOT_PAGES}
        flat_names: list[str] = []
        if self.staging.is_dir():
            with os.scandir(self.staging) as entries:
                flat_names = sorted(entry.name for entry in entries)
        project_pages = [name for name in flat_names if name not in root_flat and name != repomd_flat]
        root_pages = [name for name in flat_names if name in root_flat]
        for flat_name in project_pages + root_pages:
            try:
                target = self.path(_unflat(flat_name))
            except ValueError:
                logger.error("%s: staged page %r is outside the tree: dropped", self.slug, flat_name)
                continue
            self._replace_page(self.staging / flat_name, target)
        for relative in record.get("delete", []):
            try:
                target = self.path(relative)
            except ValueError:
                logger.error("%s: deletion of %r is outside the tree: skipped", self.slug, relative)
                continue
            target.unlink(missing_ok=True)
            try:
                target.parent.rmdir()
            except OSError:
                pass
        result = record_revision(record)
        repomd_staged = self.staging / repomd_flat
        if repomd_staged.exists():
            fsync_file(repomd_staged)
            self._replace_page(repomd_staged, self.root / REPOMD)
            fsync_dir(self.root / "repodata")
        if self.next_path.exists():  # left by an older version: its state copy
            os.replace(self.next_path, self.state_path)
            self.primary_db_path.unlink(missing_ok=True)  # rebuilt from that state
        return result

    def _replace_page(self, source: Path, target: Path) -> None:
        try:
            os.replace(source, target)
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)

    def discard_work(self) -> list[str]:
        """Throw away an uncommitted publish; return the data files it had linked (for garbage)."""
        if self._intent is not None:
            self._intent.close()
            self._intent = None
        shutil.rmtree(self.staging, ignore_errors=True)
        self.next_path.unlink(missing_ok=True)
        linked: list[str] = []
        if self.intent_path.exists():
            linked = [line for line in self.intent_path.read_text().splitlines() if line]
            self.intent_path.unlink()
        return linked

    # -- pruning ------------------------------------------------------------------------------

    def remove_data_file(self, relative: str) -> None:
        target = self.path(relative)
        target.unlink(missing_ok=True)
        if relative.startswith("packages/"):
            try:
                target.parent.rmdir()  # the <sha256>/ folder, once empty
            except OSError:
                pass


def _flat(relative: str) -> str:
    """Staged pages live in one folder: percent-encode, then '/' becomes '+'. Reversible for any
    path (a quoted path holds no '+'), and the usual names stay readable: simple+numpy+index.html."""
    return quote(relative, safe="/").replace("/", "+")


def _unflat(flat_name: str) -> str:
    return unquote(flat_name.replace("+", "/"))
