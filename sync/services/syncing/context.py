"""What every step of one upstream's sync shares: the SyncContext."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from django.conf import settings

from sync.engine.http import Client, Page
from sync.engine.index import ProjectListing, RemoteProject
from sync.engine.pool import bounded_map
from sync.filters import FilterSpec
from sync.models import StoreRun, Upstream
from sync.progress import Progress
from sync.services.runs import RunState

# The main thread writes what the pools produce in batches: this often, or this many.
FLUSH_EVERY_SECONDS = 1.0
FLUSH_EVERY_ITEMS = 200

T = TypeVar("T")
R = TypeVar("R")


class Batch(Generic[T]):
    """What the pools produced, written by the main thread in batches: every FLUSH_EVERY_ITEMS items or
    FLUSH_EVERY_SECONDS, whichever comes first, and once more at the end (flush)."""

    def __init__(self, write: Callable[[list[T]], None]) -> None:
        self.write = write
        self.items: list[T] = []
        self.flushed = time.monotonic()

    def __enter__(self) -> Batch[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def add(self, item: T) -> None:
        self.items.append(item)
        if len(self.items) >= FLUSH_EVERY_ITEMS or time.monotonic() - self.flushed >= FLUSH_EVERY_SECONDS:
            self.flush()

    def flush(self) -> None:
        self.write(self.items)
        self.items, self.flushed = [], time.monotonic()


class SyncAborted(Exception):
    """The run cannot go on (upstream unreadable, store busy); the message says why."""


@dataclass
class Known:
    """A project row as loaded for one run (and kept up to date by it)."""

    id: int
    name: str
    url: str
    last_serial: int | None
    etag: str
    last_modified: str
    page_sha256: str
    removed: bool


@dataclass
class PageResult:
    """One project page as an index thread fetched and parsed it (error: why not)."""

    remote: RemoteProject
    page: Page | None = None
    listing: ProjectListing | None = None
    error: str = ""
    unchanged: bool = False
    sizes: dict[str, int] = field(default_factory=dict)


def validator(value: str, limit: int | None) -> str:
    """An HTTP validator as stored: dropped when longer than its column (it only saves a request)."""
    return value if limit is None or len(value) <= limit else ""


@dataclass
class SyncContext:
    """One upstream's run: its rows, its client, its progress, its filters, and its cancel flag."""

    upstream: Upstream
    state: RunState
    client: Client
    progress: Progress
    allow_mass_removal: bool = False
    # The root's validators and serial are kept only after a complete pass (see entry.upstream_run).
    root_complete: bool = True
    cancel: threading.Event = field(default_factory=threading.Event)
    stopped: str = ""  # why the run stopped early (disk full, past its deadline); "" = it did not

    def __post_init__(self) -> None:
        self.spec = FilterSpec.from_dict(self.upstream.filters or {})
        # An http(s) upstream may only send us to http(s); a local tree may also use file://.
        local = urlsplit(self.upstream.url).scheme == "file"
        self.allowed_schemes: tuple[str, ...] = ("http", "https", "file") if local else ("http", "https")

    @property
    def run(self) -> StoreRun:
        return self.state.run

    def stop(self, reason: str) -> None:
        """Stop the run cleanly: workers stop at their next chunk, no new item starts, what is done is kept."""
        if not self.stopped:
            self.stopped = reason
            self.progress.log(reason)
        self.root_complete = False
        self.cancel.set()

    def check_deadline(self) -> None:
        """Stop the run once it has passed SYNC_RUN_DEADLINE."""
        deadline = self.client.limits.run_deadline
        if deadline is not None and time.monotonic() > deadline:
            self.stop(
                f"the run passed its deadline (SYNC_RUN_DEADLINE={settings.SYNC_RUN_DEADLINE} s) and stopped; "
                "what it stored is recorded and the next run continues"
            )

    def on_wait(self) -> None:
        self.progress.tick()
        self.check_deadline()

    def bounded(
        self, pool: ThreadPoolExecutor, func: Callable[[T], R], items: Iterable[T], *, window: int
    ) -> Iterator[R]:
        """bounded_map with the progress ticking; an interrupted run tells its workers to stop."""
        # Nothing new starts once the run is stopped; what runs ends at its next chunk.
        items = itertools.takewhile(lambda _item: not self.cancel.is_set(), items)
        return bounded_map(pool, func, items, window=window, on_wait=self.on_wait, on_interrupt=self.cancel.set)
