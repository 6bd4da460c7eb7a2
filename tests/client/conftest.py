"""Real published trees for the client's tests: the server's own publisher, in the test.

The client itself imports none of the server's packages; only its tests use them to make trees.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from metadata.models import Collection
from metadata.services import collection_publish
from sync.models import Upstream
from sync.sample_packages import SamplePackage
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
