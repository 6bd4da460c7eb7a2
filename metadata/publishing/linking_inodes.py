"""Which inode a published file is: a hardlink of the store's blob, of a spare copy of it, or a copy.

A file system limits the links of one inode (ext4: 65,000). A blob published under more names than that
(the same bytes under 66,000 file names) cannot be linked once more: the link fails with EMLINK. Then a
**spare** is used: a copy of the blob made once, in `publish-work/links/<blob name>/<n>`, and linked in
its place (65,000 more names per spare). A spare is known by its place, so a later publish that finds a
tree file on a spare's inode knows it is current and leaves it alone; only a tree file on some other
inode (the store's blob was replaced, by verify --repair) is linked again, through the same rules.

Everything temporary is made in the publish's tmp folder (outside pub/, on the same file system) and
renamed into place, so a reader of the tree only ever sees finished files.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import time
import uuid
from pathlib import Path

from core.fs import atomic_write

logger = logging.getLogger(__name__)

SPARE_MIN_AGE_SECONDS = 3600  # an unused spare is removed only after this (another publish may be linking it)


def spare_folder(spares_root: Path, source: Path) -> Path:
    """Where the spares of one store file live."""
    return spares_root / source.name


def _spares(folder: Path) -> list[Path]:
    """The spares of one store file, newest first (the newest is the one with room left)."""
    try:
        names = [entry.name for entry in os.scandir(folder) if entry.name.isdigit()]
    except FileNotFoundError:
        return []
    return [folder / name for name in sorted(names, key=int, reverse=True)]


def _inodes(paths: list[Path]) -> set[int]:
    inodes = set()
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            inodes.add(path.stat().st_ino)
    return inodes


def copy_file(source: Path, target: Path, tmp_dir: Path) -> None:
    """Copy by rename through tmp_dir: the target is never seen half written."""

    def copy(out) -> None:
        with open(source, "rb") as handle:
            shutil.copyfileobj(handle, out, 1024 * 1024)

    atomic_write(target, copy, tmp_dir=tmp_dir, prefix=".copy-")


def link_or_copy(source: Path | str, dest: Path | str, *, tmp_dir: Path, spares_root: Path) -> None:
    """Make `dest` (which must not exist) hold `source`'s bytes: a hardlink of it; of a spare when the
    source has too many links (EMLINK); a copy when links fail (another file system, EXDEV/EPERM)."""
    try:
        os.link(source, dest)
        return
    except OSError as error:
        if error.errno == errno.EMLINK:
            source, dest = Path(source), Path(dest)
            _link_spare(source, dest, tmp_dir=tmp_dir, folder=spare_folder(spares_root, source))
            return
        if error.errno not in (errno.EXDEV, errno.EPERM):
            raise
    copy_file(Path(source), Path(dest), tmp_dir)


def _link_spare(source: Path, dest: Path, *, tmp_dir: Path, folder: Path) -> None:
    for spare in _spares(folder):
        try:
            os.link(spare, dest)
            return
        except FileNotFoundError:
            continue  # pruned meanwhile
        except OSError as error:
            if error.errno != errno.EMLINK:
                raise
    # Every spare is full (or there is none yet): one more, a copy of the source made once.
    folder.mkdir(parents=True, exist_ok=True)
    temporary = tmp_dir / f".spare-{uuid.uuid4().hex}"
    copy_file(source, temporary, tmp_dir)
    try:
        number = max((int(spare.name) for spare in _spares(folder)), default=0) + 1
        while True:
            try:
                os.link(temporary, folder / str(number))  # never over a spare another publish made
                break
            except FileExistsError:
                number += 1
    finally:
        temporary.unlink(missing_ok=True)
    logger.info("%s has too many links: spare copy %s made", source.name, number)
    os.link(folder / str(number), dest)


def relink_if_replaced(
    source: Path | str, target: Path | str, *, tmp_dir: Path, spares_root: Path, force: bool = False
) -> bool:
    """Point the tree's `target` at the store's `source` again when it holds another inode: the blob was
    replaced (verify --repair writes a new inode). A target on one of the source's spares is current
    (not re-linked). force: any inode but the source's own is replaced, and a copy across file systems
    is copied again (what a repair needs). True when the tree's file changed."""
    source_stat, target_stat = os.stat(source), os.stat(target)
    if source_stat.st_dev != target_stat.st_dev:  # a copy across file systems: compare what is cheap
        if source_stat.st_size == target_stat.st_size and not force:
            return False
        copy_file(Path(source), Path(target), tmp_dir)
        return True
    if source_stat.st_ino == target_stat.st_ino:
        return False  # the usual case: every file of a changed project comes here, and no Path is made
    source, target = Path(source), Path(target)
    if not force and target_stat.st_ino in _inodes(_spares(spare_folder(spares_root, source))):
        return False
    temporary = tmp_dir / f".relink-{uuid.uuid4().hex}"
    link_or_copy(source, temporary, tmp_dir=tmp_dir, spares_root=spares_root)
    os.replace(temporary, target)
    return True


def spares_forget(spares_root: Path, source: Path, tmp_dir: Path) -> None:
    """Stop using the spares of `source` (copies of a blob that was damaged): tree files linked to them keep
    their inode until re-linked, new links get new spares copied from the repaired blob."""
    folder = spare_folder(spares_root, source)
    if not folder.exists():
        return
    tmp_dir.mkdir(parents=True, exist_ok=True)
    doomed = tmp_dir / f".forgotten-{uuid.uuid4().hex}"
    with contextlib.suppress(FileNotFoundError):
        os.rename(folder, doomed)
        shutil.rmtree(doomed, ignore_errors=True)


def spares_prune(spares_root: Path, *, min_age_seconds: float = SPARE_MIN_AGE_SECONDS) -> int:
    """Remove spares no tree links any more (one link left: their own name), unchanged for min_age_seconds
    (a link changes an inode's ctime, so a spare in use by another publish is recent)."""
    removed = 0
    cutoff = time.time() - min_age_seconds
    try:
        folders = list(os.scandir(spares_root))
    except FileNotFoundError:
        return 0
    for folder in folders:
        for spare in _spares(Path(folder.path)):
            with contextlib.suppress(FileNotFoundError):
                stat = spare.stat()
                if stat.st_nlink == 1 and stat.st_ctime < cutoff:
                    spare.unlink()
                    removed += 1
        with contextlib.suppress(OSError):
            os.rmdir(folder.path)
    return removed
