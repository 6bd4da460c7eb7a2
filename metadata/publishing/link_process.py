"""The hardlinks of a publish: made in this process for a small publish, by a helper process for a large one.

A full publish makes 1,500,000 links per 100,000 projects (about 28 µs each on this kind of machine: a
quarter of the publish). A thread would not overlap them with the pages the publisher renders meanwhile:
every os.link gives the GIL up and then waits to get it back from the busy thread (measured: no gain). A
process does: the two overlapped almost wholly. The helper touches only the file system (no database, no
Django): it gets batches of link orders, makes them as CollectionTree.link_data_file would, and answers
each batch with how many packages it linked and the errors it met. The publisher sends a batch only after
it has the answer to the one before, so neither side can block the other on a full pipe.
"""

from __future__ import annotations

import os
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NamedTuple

from metadata.publishing.linking_inodes import link_or_copy, relink_if_replaced

PROCESS_MIN_NAMES = 5_000  # a publish that visits fewer names links in process: the helper starts in ~0.1 s
_PROJECT_ROOT = Path(__file__).resolve().parents[2]  # where `python -m metadata.publishing.link_process` runs


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


class LinkHelper:
    """The helper process, from the publisher's side: `send` a batch, then `receive` its outcome, in turn."""

    def __init__(self, links: DataLinks) -> None:
        to_child_read, to_child_write = os.pipe()
        from_child_read, from_child_write = os.pipe()
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_PROJECT_ROOT), *sys.path])}
        try:
            self._process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
                [sys.executable, "-m", "metadata.publishing.link_process", str(to_child_read), str(from_child_write)],
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
        self._to_child.send((links.root, str(links.tmp), str(links.spares)))

    def send(self, orders: list[LinkOrder]) -> None:
        self._to_child.send(orders)

    def receive(self) -> BatchOutcome:
        try:
            return BatchOutcome(*self._from_child.recv())
        except EOFError:
            raise RuntimeError("the link helper process stopped before it answered") from None

    def close(self) -> None:
        """Stop the helper (it has nothing in flight once every batch's outcome was received)."""
        try:
            self._to_child.send(None)
        except OSError:
            pass
        self._to_child.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._from_child.close()


def _serve(read_fd: int, write_fd: int) -> None:
    requests, answers = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    root, tmp, spares = requests.recv()
    links = DataLinks(root, Path(tmp), Path(spares))
    while (orders := requests.recv()) is not None:
        answers.send(tuple(run_batch(links.link, orders)))


if __name__ == "__main__":
    # Through the module's own name, so that what it sends back unpickles as the publisher's classes.
    from metadata.publishing.link_process import _serve as serve

    serve(int(sys.argv[1]), int(sys.argv[2]))
