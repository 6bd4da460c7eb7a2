"""Fixtures of the metadata tests: an upstream, its catalogue (real sample packages in the store), collections."""

from __future__ import annotations

from pathlib import Path

import pytest

from metadata.models import Collection
from sync.models import Upstream
from tests.factories import BASE_PACKAGES, Catalogue, CollectionFactory, UpstreamFactory


@pytest.fixture
def upstream(db) -> Upstream:
    return UpstreamFactory(name="main")


@pytest.fixture
def catalogue(upstream) -> Catalogue:
    return Catalogue(upstream)


@pytest.fixture
def base_catalogue(catalogue) -> Catalogue:
    catalogue.add_all(BASE_PACKAGES)
    return catalogue


@pytest.fixture
def full_collection(db) -> Collection:
    return Collection.objects.get(slug="full")


def make_collection(slug: str, **fields) -> Collection:
    fields.setdefault("title", slug.title())
    return CollectionFactory(slug=slug, **fields)


def tree_snapshot(root: Path) -> dict[str, bytes]:
    """Every file of a tree (relative path -> bytes)."""
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}
