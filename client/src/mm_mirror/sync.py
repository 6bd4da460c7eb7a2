"""`mm-mirror sync SOURCE DEST`: a copy of a collection that is whole when it ends.

Even while the origin publishes during the copy. Each attempt:

1. data: `packages/` and `repodata/` (not repomd.json), no delete: content-addressed names, so
   nothing a reader of the current copy uses is replaced;
2. the manifest: the source's `repodata/repomd.json` into `DEST/.mm-mirror/repomd.json.next`, not in
   place yet (a snapshot of revision r);
3. pages: `simple/` with `--delay-updates` (pages of revision r or newer, since the origin writes
   pages before its manifest);
4. the self-check of the staged manifest: every repodata file it names (sha256, size), every file its
   primary data lists (size, and .metadata), every file the pages copied in this run link to. Gaps are
   copied by name (`--files-from`) and checked again; the origin keeps what older revisions used for
   its grace period, so this converges even when the origin published in between;
5. only a whole copy gets the new manifest, by rename: DEST's `repomd.json` never names a file DEST
   does not have. Then, with --delete, one more rsync removes what the source no longer has.

rsync's exit 24 (files vanished under it: the publisher's temporary files) is expected; in the
fix-up step 23 is too (a file named that the source no longer has: the check tells the truth).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mm_mirror.errors import GAPS, RSYNC, ClientError, UsageError
from mm_mirror.tree import REPOMD, CheckResult, Gap, check_pages, check_tree

STATE_DIR = ".mm-mirror"
STAGED_REPOMD = f"{STATE_DIR}/repomd.json.next"
FILE_MARK = "mm-mirror-file:"
# What the publisher writes under temporary names (they vanish under rsync), and rsync's own.
TEMPORARIES = (".tmp-*", ".relink-*", ".copy-*", ".~tmp~/")
OK_CODES = (0, 24)
FIXUP_CODES = (0, 23, 24)


@dataclass
class SyncOptions:
    source: str
    dest: Path
    bwlimit: str | None = None
    delete: bool = False
    max_rounds: int = 5
    rsync: str = "rsync"
    rsync_options: Sequence[str] = ()
    timeout: int = 600
    log: object = None  # a text stream; sys.stderr when None


@dataclass
class SyncReport:
    check: CheckResult
    attempts: int
    fixups: int
    changed_pages: int


class Rsync:
    """One rsync invocation a time, with the options every pass shares."""

    def __init__(self, options: SyncOptions) -> None:
        binary = shutil.which(options.rsync)
        if binary is None:
            raise UsageError(f"{options.rsync!r} not found: install rsync")
        self.options = options
        self.common = [binary, "-aH", f"--timeout={options.timeout}", f"--out-format={FILE_MARK}%n"]
        if options.bwlimit:
            self.common.append(f"--bwlimit={options.bwlimit}")
        self.common += [f"--exclude=/{STATE_DIR}/"] + [f"--exclude={pattern}" for pattern in TEMPORARIES]
        self.common += list(options.rsync_options)

    def __call__(self, args: list[str], *, ok: Iterable[int] = OK_CODES, stdin: str | None = None) -> list[str]:
        """Run rsync; the names of what it transferred. ClientError(RSYNC) on any other exit code."""
        command = self.common + args
        completed = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False, errors="replace")
        if completed.returncode not in tuple(ok):
            tail = completed.stderr.strip().splitlines()[-3:]
            raise ClientError(f"rsync exited {completed.returncode}: {' / '.join(tail)}", RSYNC)
        if completed.returncode:
            self.log(f"rsync exited {completed.returncode} (tolerated: {_reason(completed.returncode)})")
        return [line[len(FILE_MARK) :] for line in completed.stdout.splitlines() if line.startswith(FILE_MARK)]

    def log(self, message: str) -> None:
        print(f"mm-mirror sync: {message}", file=self.options.log or sys.stderr, flush=True)


def _reason(code: int) -> str:
    return {24: "source files vanished during the copy", 23: "some named files are not at the source"}.get(code, "")


def normalize_source(source: str) -> str:
    """rsync://host/module/path/ or a local folder, always with one trailing slash (copy the contents)."""
    if not source:
        raise UsageError("SOURCE is empty")
    if "://" not in source and ":" not in source.split("/")[0] and not Path(source).is_dir():
        raise UsageError(f"SOURCE {source!r} is neither an rsync URL nor a folder")
    return source.rstrip("/") + "/"


def collection_sync(options: SyncOptions) -> SyncReport:
    """Copy SOURCE to DEST until DEST is whole (see the module docstring); ClientError(GAPS) when it
    is not after `max_rounds` attempts, in which case DEST keeps its previous manifest."""
    source = normalize_source(options.source)
    dest = options.dest
    dest.mkdir(parents=True, exist_ok=True)
    (dest / STATE_DIR).mkdir(exist_ok=True)
    (dest / "repodata").mkdir(exist_ok=True)
    staged = dest / STAGED_REPOMD
    rsync = Rsync(options)
    changed_pages: set[str] = set()
    fixups = 0
    gaps: list[Gap] = []
    for attempt in range(1, options.max_rounds + 1):
        rsync.log(f"attempt {attempt}: data files")
        data_filter = ["--exclude=/repodata/repomd.json", "--include=/packages/***", "--include=/repodata/***"]
        rsync([*data_filter, "--exclude=*", source, f"{dest}/"])
        rsync([f"{source}{REPOMD}", str(staged)])
        rsync.log(f"attempt {attempt}: pages")
        pages = rsync(["--delay-updates", "--include=/simple/***", "--exclude=*", source, f"{dest}/"])
        changed_pages.update(name for name in pages if name.startswith("simple/") and not name.endswith("/"))
        for _round in range(options.max_rounds):
            result = check_tree(dest, repomd_path=staged)
            gaps = result.gaps + check_pages(dest, sorted(changed_pages))
            if result.repomd is not None and not gaps:
                os.replace(staged, dest / REPOMD)
                _fsync_dir(dest / "repodata")
                rsync.log(f"revision {result.repomd.revision} whole: {result.files} files, {result.bytes} bytes")
                if options.delete:
                    _delete_extraneous(rsync, source, dest)
                return SyncReport(result, attempt, fixups, len(changed_pages))
            wanted = sorted({gap.path for gap in gaps if gap.kind != "unreadable" or gap.path.startswith("repodata/")})
            if result.repomd is None or not wanted:
                break
            rsync.log(f"attempt {attempt}: {len(gaps)} gap(s), copying {len(wanted)} file(s) by name")
            fixups += 1
            copied = rsync(
                ["--ignore-times", "--files-from=-", source, f"{dest}/"], ok=FIXUP_CODES, stdin="\n".join(wanted) + "\n"
            )
            if not copied:
                break  # the source no longer has them: take a new snapshot
    listed = "; ".join(str(gap) for gap in gaps[:5])
    raise ClientError(f"not whole after {options.max_rounds} attempts ({len(gaps)} gap(s): {listed})", GAPS)


def _delete_extraneous(rsync: Rsync, source: str, dest: Path) -> None:
    """What the source no longer has goes, only now that the new revision is whole (nothing is copied)."""
    rsync(["--delete-after", "--existing", "--ignore-existing", f"--exclude=/{REPOMD}", source, f"{dest}/"])
    rsync.log("removed what the source no longer has")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
