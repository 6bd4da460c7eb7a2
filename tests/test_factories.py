"""The shared factories build valid rows."""

import pytest

from sync.blobstore import blob_path
from sync.sample_packages import SamplePackage
from tests.factories import (
    AdminFactory,
    FileFactory,
    HostURLFactory,
    NetblockFactory,
    ProjectFactory,
    RevisionFactory,
    StoredFileFactory,
)

pytestmark = pytest.mark.django_db


def test_factories_build_a_small_network():
    url = HostURLFactory(host__approved=True, current=True)
    NetblockFactory(host=url.host)
    RevisionFactory(collection=url.collection)
    assert url.host.state == "approved" and url.url.endswith("/pypi/full/")
    assert url.host.site.owner.check_password("pass-word-1234")
    assert AdminFactory().is_staff


def test_catalogue_factories_build_rows_and_real_blobs(mirror_root):
    row = FileFactory()
    assert row.state == "stored" and len(row.sha256) == 64 and row.project.upstream.url.startswith("https://")
    assert ProjectFactory(upstream=row.project.upstream, name=row.project.name) == row.project  # get or create
    stored = StoredFileFactory(package=SamplePackage("Hello_World", "1.0"))
    assert stored.project.normalized_name == "hello-world" and stored.filename == "hello_world-1.0-py3-none-any.whl"
    assert blob_path(stored.sha256).stat().st_size == stored.size
