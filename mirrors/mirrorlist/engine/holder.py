"""The table a web process serves: one reference, swapped atomically when a newer snapshot appears.

Requests read `holder.table()`, which at most once per refresh interval stats the local cache file (cheap)
and picks up a snapshot a sibling process wrote. A daemon thread asks the shared source (the database or
Redis, injected: this module has no database code) for its newest version at the same pace, copies a new
snapshot to the local cache file and swaps. A request never waits for a rebuild, and when the source is
down the process keeps serving what it has, or what the local cache holds after a restart.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mirrors.mirrorlist.engine.table import SnapshotError, Table, table_sha256

log = logging.getLogger(__name__)
_MAGIC = b"MMLIST1 "


@dataclass(frozen=True, slots=True)
class SnapshotBlob:
    version: int
    sha256: str
    data: bytes


class SnapshotSource(Protocol):
    def latest_version(self) -> int | None: ...

    def fetch(self, version: int) -> SnapshotBlob | None: ...


def cache_write(path: Path, blob: SnapshotBlob) -> None:
    """Write the local cache file atomically: a temporary file, fsync, rename, fsync of the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = _MAGIC + f"{blob.version} {blob.sha256}\n".encode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".snapshot-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(header + blob.data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def cache_read(path: Path) -> SnapshotBlob:
    """Read and check the local cache file; SnapshotError when it is damaged."""
    raw = path.read_bytes()
    if not raw.startswith(_MAGIC) or b"\n" not in raw[:200]:
        raise SnapshotError("not a mirrorlist cache file")
    header, data = raw[len(_MAGIC) :].split(b"\n", 1)
    try:
        version_text, sha256 = header.decode("ascii").split(" ")
        version = int(version_text)
    except ValueError:
        raise SnapshotError("bad cache file header") from None
    if table_sha256(data) != sha256:
        raise SnapshotError("cache file does not match its sha256")
    return SnapshotBlob(version, sha256, data)


def load_blob(blob: SnapshotBlob) -> Table:
    """Check the hash, parse, and insist that the table's own version is the one it travelled under."""
    if table_sha256(blob.data) != blob.sha256:
        raise SnapshotError(f"snapshot v{blob.version} does not match its sha256")
    table = Table.from_bytes(blob.data)
    if table.version != blob.version:
        raise SnapshotError(f"snapshot v{blob.version} holds a table of version {table.version}")
    return table


class TableHolder:
    def __init__(self, *, cache_path: Path, source: SnapshotSource | None, refresh_seconds: float, poll: bool) -> None:
        self.cache_path = cache_path
        self.source = source
        self.refresh_seconds = refresh_seconds
        self.poll = poll
        self._table: Table | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._checked = -1e9
        self._lock = threading.Lock()
        self._poller_pid: int | None = None
        self._stopped = False
        self.last_error = ""

    # ---- the request path -------------------------------------------------------------------------

    def table(self) -> Table | None:
        """The current table (None when none was ever available); never blocks on the shared source
        except for the very first load of a process that has no local cache."""
        now = time.monotonic()
        if now - self._checked >= self.refresh_seconds:
            self._checked = now
            self.check_local()
            if self._table is None and self.source is not None:
                self.poll_source_once()
            if self.poll and self.source is not None and self._poller_pid != os.getpid():
                self._start_poller()
        return self._table

    @property
    def current(self) -> Table | None:
        """The table served now, without any check."""
        return self._table

    def swap(self, table: Table) -> bool:
        """Install a table unless it is the one already served. One reference assignment."""
        with self._lock:
            if self._table is not None and self._table.version == table.version:
                return False
            self._table = table
            return True

    def check_local(self) -> None:
        try:
            st = os.stat(self.cache_path)
        except OSError:
            return
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if stamp == self._stamp:
            return
        try:
            blob = cache_read(self.cache_path)
            if self._table is None or blob.version != self._table.version:
                self.swap(load_blob(blob))
            self._stamp = stamp
        except (OSError, SnapshotError) as exc:
            self.last_error = f"local cache unusable: {exc}"
            log.warning("mirrorlist: %s", self.last_error)

    # ---- the shared source ------------------------------------------------------------------------

    def poll_source_once(self) -> bool:
        """Fetch a snapshot newer than (different from) the served one; True when it swapped."""
        if self.source is None:
            return False
        try:
            version = self.source.latest_version()
            if version is None or (self._table is not None and version == self._table.version):
                return False
            blob = self.source.fetch(version)
            if blob is None:
                return False
            table = load_blob(blob)
        except SnapshotError as exc:
            self.last_error = f"shared snapshot refused: {exc}"
            log.error("mirrorlist: %s", self.last_error)
            return False
        except Exception as exc:  # the database or Redis being down must never reach a request
            self.last_error = f"snapshot source unavailable: {type(exc).__name__}: {exc}"
            log.warning("mirrorlist: %s", self.last_error)
            return False
        try:
            cache_write(self.cache_path, blob)
        except OSError as exc:
            log.warning("mirrorlist: cannot write the local cache %s: %s", self.cache_path, exc)
        self.last_error = ""
        return self.swap(table)

    def _start_poller(self) -> None:
        with self._lock:
            if self._poller_pid == os.getpid():
                return
            self._poller_pid = os.getpid()  # after a fork the parent's thread is gone: start our own
        threading.Thread(target=self._poll_forever, name="mirrorlist-poller", daemon=True).start()

    def stop(self) -> None:
        """Let the poller thread end (a replaced holder: tests, a settings change)."""
        self._stopped = True

    def _poll_forever(self) -> None:
        while not self._stopped:
            time.sleep(self.refresh_seconds)
            if self._stopped:
                break
            self.poll_source_once()
            closer = getattr(self.source, "after_poll", None)
            if closer is not None:
                closer()
