"""Real published trees for the client's tests: the server's own publisher, in the test.

The client itself imports none of the server's packages; only its tests use them to make trees.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from metadata.models import Collection
from metadata.services import collection_publish
from sync.models import Upstream
from sync.sample_packages import SamplePackage
from tests.client.servers import Listing
from tests.metadata.conftest import BASE_PACKAGES, Catalogue


@dataclass
class Origin:
    """A catalogue and its published `full` tree; publish() makes the next revision."""

    catalogue: Catalogue
    root: Path  # pub/full

    def publish(self, *packages: SamplePackage) -> int:
        self.catalogue.add_all(packages)
        revision = collection_publish(collection=Collection.objects.get(slug="full"))
        assert revision is not None
        return revision.number

    def snapshot(self, target: Path) -> Path:
        """A copy of the tree as it is now (a mirror that stops here)."""
        shutil.copytree(self.root, target, copy_function=shutil.copy2)
        return target


@pytest.fixture
def origin(db, mirror_root) -> Origin:
    catalogue = Catalogue(Upstream.objects.create(name="main", url="https://upstream.example/simple/"))
    result = Origin(catalogue, mirror_root / "pub" / "full")
    result.publish(*BASE_PACKAGES)
    return result


@dataclass
class Network:
    """Mirrors on 127.0.0.1 of one origin's `full`, each misbehaving in its own way, and a stand-in origin.

    Revisions: r1 (the base catalogue), r2 (+ newcomer 1.0), r3 (+ newcomer 2.0) is current; the
    origin allows r2 as a recent one. `behind` serves r1.
    """

    origin: Origin
    servers: dict[str, object]  # name -> server (with .url and, for tree servers, .requests)
    urls: dict[str, str]  # name -> base URL of the collection's tree
    listing: Listing
    stand_in: object

    def order(self, *names: str) -> None:
        self.listing.mirrors = [self.urls[name] for name in names]


def corrupt(tree: Path, filename: str) -> None:
    """Replace one package file by another valid wheel's bytes (what the page promises is not what is served)."""
    target = next(tree.glob(f"packages/*/*/*/{filename}"))
    other = next(path for path in tree.glob("packages/*/*/*/*.whl") if path.name != filename)
    target.unlink()
    target.write_bytes(other.read_bytes())


@pytest.fixture
def network(origin, tmp_path):
    from tests.client.servers import HangingServer, Listing, origin_server, refusing_url, running, tree_server

    behind = origin.snapshot(tmp_path / "behind" / "full").parent
    origin.publish(SamplePackage("newcomer", "1.0"))
    recent_repomd = (origin.root / "repodata" / "repomd.json").read_bytes()
    recent = origin.snapshot(tmp_path / "recent" / "full").parent
    origin.publish(SamplePackage("newcomer", "2.0"))
    broken = origin.snapshot(tmp_path / "corrupt" / "full").parent
    corrupt(broken / "full", "hello_world-1.1.0-py3-none-any.whl")
    listing = Listing([], (origin.root / "repodata" / "repomd.json").read_bytes(), recent=[recent_repomd])
    with contextlib.ExitStack() as stack:
        servers = {
            "good": stack.enter_context(running(tree_server(origin.root.parent))),
            "error500": stack.enter_context(running(tree_server(origin.root.parent, mode="error500"))),
            "truncated": stack.enter_context(running(tree_server(origin.root.parent, mode="truncated"))),
            "behind": stack.enter_context(running(tree_server(behind))),
            "recent": stack.enter_context(running(tree_server(recent))),
            "corrupt": stack.enter_context(running(tree_server(broken))),
            "hanging": stack.enter_context(HangingServer()),
        }
        urls = {name: f"{server.url}full/" for name, server in servers.items()}
        urls["refused"] = f"{refusing_url()}full/"
        stand_in = stack.enter_context(running(origin_server({"full": listing})))
        yield Network(origin, servers, urls, listing, stand_in)
