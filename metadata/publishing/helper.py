"""The file-system writes of a publish: made in this process for a small publish, by a helper process for a
large one (the hardlinks of data files and the staged project pages).

A full publish makes 1,500,000 links and 200,000 staged pages per 100,000 projects (together about half of
it on this kind of machine, where creating a file costs tens of µs in the kernel). A thread would not
overlap them with the pages the publisher renders meanwhile: every os.link gives the GIL up and then waits
to get it back from the busy thread (measured: no gain). A process does (measured: the two overlapped
almost wholly). The helper touches only the file system (no database, no Django). It takes messages of
link orders and of page orders, in order, and answers each: how many packages it linked and the errors it
met, or how many pages it staged. A thread of the helper reads the messages as they come, so the publisher
never waits on a full pipe, and the publisher reads the answers it needs when it needs them.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
from collections import deque
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NamedTuple

from metadata.publishing.linking_inodes import link_or_copy, relink_if_replaced

PROCESS_MIN_NAMES = 5_000  # a publish that visits fewer names links in process: the helper starts in ~0.1 s
_PROJECT_ROOT = Path(__file__).resolve().parents[2]  # where `python -m metadata.publishing.helper` runs


class LinkOrder(NamedTuple):
    """One data file to link into the tree: a store file at `source`, the tree path `relative`; `package`
    says whether it counts as a linked package (a .metadata does not)."""

    source: str
    relative: str
    package: bool


class LinkFailure(NamedTuple):
    """A link that could not be made: the order's tree path and the error."""

    relative: str
    error: OSError


class BatchOutcome(NamedTuple):
    """What one batch of orders did: packages newly linked, and the links that failed."""

    packages_linked: int
    failures: list[LinkFailure]


class PageOrder(NamedTuple):
    """One folder's pages to stage (a project's): the tree folder, its staging name (for a folder the tree has
    not got yet), and each page as (file name, staging name, bytes)."""

    relative_dir: str
    folder_flat: str
    pages: list[tuple[str, str, bytes]]


class PagesOutcome(NamedTuple):
    """What one message of page orders did: pages staged, and the error that stopped it (None: none)."""

    staged: int
    error: OSError | None


class StagedPages:
    """The file system side of staging pages: a page is staged unless the tree has its exact bytes; a folder
    the tree has not got yet (a new project's) is staged whole, to be renamed into place in one rename."""

    def __init__(self, root: str, staging: str) -> None:
        self.root, self.staging = root, staging

    def stage(self, relative: str, flat: str, data: bytes) -> bool:
        """Stage a page (relative: checked by the caller) unless the tree has these bytes. True when staged."""
        try:
            with open(f"{self.root}/{relative}", "rb") as handle:
                if handle.read(len(data) + 1) == data:
                    return False
        except (FileNotFoundError, NotADirectoryError):
            pass
        with open(f"{self.staging}/{flat}", "wb") as handle:
            handle.write(data)
        return True

    def stage_folder(self, order: PageOrder) -> int:
        """Stage one folder's pages; how many were staged."""
        if os.path.isdir(f"{self.root}/{order.relative_dir}"):
            return sum(self.stage(f"{order.relative_dir}/{name}", flat, data) for name, flat, data in order.pages)
        folder = f"{self.staging}/{order.folder_flat}"
        os.mkdir(folder)
        for name, _flat, data in order.pages:
            with open(f"{folder}/{name}", "wb") as handle:
                handle.write(data)
        return len(order.pages)


def stage_batch(pages: StagedPages, orders: list[PageOrder]) -> PagesOutcome:
    """Stage the orders in turn; an OSError stops there (a page that cannot be staged fails the publish)."""
    staged = 0
    try:
        for order in orders:
            staged += pages.stage_folder(order)
    except OSError as error:
        return PagesOutcome(staged, error)
    return PagesOutcome(staged, None)


class DataLinks:
    """The file system side of linking data files into one tree: each folder made once per publish, then
    a hardlink (or a spare's, or a copy), or a relink of a file already there whose blob was replaced."""

    def __init__(self, root: str, tmp: Path, spares: Path) -> None:
        self.root, self.tmp, self.spares = root, tmp, spares
        self.dirs: set[str] = set()  # folders known to exist (relative)

    def link(self, source: Path | str, relative: str) -> bool:
        """Link `source` at `relative` (checked by the caller); True when the tree's file is new or changed."""
        target = f"{self.root}/{relative}"
        parent = relative.rpartition("/")[0]
        if parent not in self.dirs:  # many files share a folder (a blob's, with its .metadata)
            os.makedirs(f"{self.root}/{parent}", exist_ok=True)
            self.dirs.add(parent)
        try:
            link_or_copy(source, target, tmp_dir=self.tmp, spares_root=self.spares)
        except FileExistsError:
            return relink_if_replaced(source, target, tmp_dir=self.tmp, spares_root=self.spares)
        return True


def run_batch(link, orders: list[LinkOrder]) -> BatchOutcome:
    """Make the orders with `link(source, relative) -> bool`; an OSError fails that order only."""
    packages = 0
    failures: list[LinkFailure] = []
    for order in orders:
        try:
            if link(order.source, order.relative) and order.package:
                packages += 1
        except OSError as error:
            failures.append(LinkFailure(order.relative, error))
    return BatchOutcome(packages, failures)


class PublishHelper:
    """The helper process, from the publisher's side. Messages are answered in order: `send_links` and
    `send_pages` queue one, `receive_links` returns the answer to the oldest links message not yet
    received (keeping the page answers it passes), `finish` collects the rest."""

    def __init__(self, links: DataLinks, pages: StagedPages) -> None:
        to_child_read, to_child_write = os.pipe()
        from_child_read, from_child_write = os.pipe()
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_PROJECT_ROOT), *sys.path])}
        try:
            self._process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
                [sys.executable, "-m", "metadata.publishing.helper", str(to_child_read), str(from_child_write)],
                pass_fds=(to_child_read, from_child_write),
                cwd=_PROJECT_ROOT,
                env=environment,
                stdin=subprocess.DEVNULL,
            )
        finally:
            os.close(to_child_read)
            os.close(from_child_write)
        self._to_child = Connection(to_child_write, readable=False)
        self._from_child = Connection(from_child_read, writable=False)
        self._expected: deque[str] = deque()  # the kinds of the messages not answered yet, oldest first
        self.pages = PagesOutcome(0, None)  # the page answers received so far, summed
        self._to_child.send((links.root, str(links.tmp), str(links.spares), pages.staging))

    def send_links(self, orders: list[LinkOrder]) -> None:
        self._send("links", orders)

    def send_pages(self, orders: list[PageOrder]) -> None:
        self._send("pages", orders)

    def _send(self, kind: str, orders: list) -> None:
        self._to_child.send((kind, orders))
        self._expected.append(kind)

    def _receive(self) -> str:
        kind = self._expected.popleft()
        try:
            answer = self._from_child.recv()
        except EOFError:
            raise RuntimeError("the publish helper process stopped before it answered") from None
        if kind == "pages":
            staged, error = answer
            self.pages = PagesOutcome(self.pages.staged + staged, self.pages.error or error)
        else:
            self._links = BatchOutcome(*answer)
        return kind

    def receive_links(self) -> BatchOutcome:
        while self._receive() != "links":
            pass
        return self._links

    def finish(self) -> PagesOutcome:
        """Every answer received; the pages staged, and the first error met staging them."""
        while self._expected:
            self._receive()
        return self.pages

    def close(self) -> None:
        """Stop the helper (it is killed when it does not stop within 10 s, as after an error)."""
        with contextlib.suppress(OSError):
            self._to_child.send(None)
        self._to_child.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._from_child.close()


def _serve(read_fd: int, write_fd: int) -> None:
    requests, answers = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    root, tmp, spares, staging = requests.recv()
    links, pages = DataLinks(root, Path(tmp), Path(spares)), StagedPages(root, staging)
    inbox: queue.SimpleQueue = queue.SimpleQueue()

    def read() -> None:  # always drains the pipe: the publisher's sends never wait on this process's work
        while True:
            try:
                message = requests.recv()
            except EOFError:
                message = None
            inbox.put(message)
            if message is None:
                return

    threading.Thread(target=read, daemon=True).start()
    while (message := inbox.get()) is not None:
        kind, orders = message
        answer = run_batch(links.link, orders) if kind == "links" else stage_batch(pages, orders)
        answers.send(tuple(answer))


if __name__ == "__main__":
    # Through the module's own name, so that what it sends back unpickles as the publisher's classes.
    from metadata.publishing.helper import _serve as serve

    serve(int(sys.argv[1]), int(sys.argv[2]))
