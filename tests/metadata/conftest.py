"""Factories for a small stored catalogue (real sample packages in the store) and collections."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from metadata.models import Collection
from sync.blobstore import blob_path
from sync.models import File, Project, Upstream
from sync.sample_packages import SamplePackage, build_package
from sync.services import catalogue_next_serial

BASE_PACKAGES: tuple[SamplePackage, ...] = (
    SamplePackage("Hello_World", "1.0.0", summary="Says hello"),
    SamplePackage("Hello_World", "1.1.0"),
    SamplePackage("Hello_World", "1.1.0", kind="sdist"),
    SamplePackage("Hello_World", "2.0.0rc1"),
    SamplePackage("greeter", "0.3.0", requires_python=">=3.8", dependencies=("hello-world>=1.0",)),
    SamplePackage("greeter", "0.3.0", kind="sdist", requires_python=">=3.8"),
    SamplePackage("numbers", "2.1.0", tag="cp311-cp311-manylinux_2_17_x86_64"),
    SamplePackage("numbers", "2.1.0", tag="cp312-cp312-win_amd64"),
    SamplePackage("numbers", "2.1.0", kind="sdist"),
)


@dataclass
class Catalogue:
    """Helpers to put sample packages into the catalogue and the store."""

    upstream: Upstream

    def add(self, package: SamplePackage, *, upstream: Upstream | None = None, **file_fields) -> File:
        """Build, store and record one file (state stored); raises the project's change_serial."""
        data = build_package(package)
        sha256 = hashlib.sha256(data).hexdigest()
        path = blob_path(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        upstream = upstream or self.upstream
        normalized = canonicalize_name(package.name)
        project, _ = Project.objects.get_or_create(
            upstream=upstream, normalized_name=normalized, defaults={"name": package.name}
        )
        project.removed = False
        project.change_serial = catalogue_next_serial()
        project.save()
        defaults = {
            "version": package.version,
            "package_type": File.PackageType.WHEEL if package.kind == "wheel" else File.PackageType.SDIST,
            "url": f"https://upstream.example/files/{package.filename}",
            "sha256": sha256,
            "upstream_sha256": sha256,
            "size": len(data),
            "upload_time": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "requires_python": package.requires_python,
            "state": File.State.STORED,
        }
        defaults.update(file_fields)
        file, _ = File.objects.update_or_create(project=project, filename=package.filename, defaults=defaults)
        return file

    def add_all(self, packages) -> list[File]:
        return [self.add(package) for package in packages]

    def touch(self, name: str) -> None:
        Project.objects.filter(normalized_name=canonicalize_name(name)).update(change_serial=catalogue_next_serial())

    def remove_project(self, name: str) -> None:
        """Make the project a tombstone, as the sync does."""
        Project.objects.filter(normalized_name=canonicalize_name(name)).update(
            removed=True, change_serial=catalogue_next_serial()
        )

    def remove_file(self, filename: str) -> None:
        file = File.objects.select_related("project").get(filename=filename)
        file.delete()
        Project.objects.filter(pk=file.project_id).update(change_serial=catalogue_next_serial())


@pytest.fixture
def upstream(db) -> Upstream:
    return Upstream.objects.create(name="main", url="https://upstream.example/simple/")


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
    return Collection.objects.create(slug=slug, **fields)


def tree_snapshot(root: Path) -> dict[str, bytes]:
    """Every file of a tree (relative path -> bytes)."""
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}
