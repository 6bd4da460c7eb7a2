"""Cached parts of the root pages and primary.json (metadata.publishing.parts) and the cached blocks of
primary.sqlite.gz (metadata.publishing.blocks): an incremental publish rebuilds only what changed, and
its result is byte for byte a full rebuild's."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from metadata.models import Collection, Revision
from metadata.publishing import blocks, parts
from metadata.publishing.render import root_html_chunks, root_json_chunks
from metadata.services import collection_publish
from sync.sample_packages import SamplePackage
from tests.metadata.conftest import tree_snapshot

pytestmark = pytest.mark.django_db

NAMES = [f"pkg-{letter}" for letter in "abcdefghijklmnop"]


@pytest.fixture
def small_ranges(monkeypatch):
    """Ranges of about two projects, so that a few projects make several parts."""
    monkeypatch.setattr(parts, "RANGE_SPAN", 2)


@pytest.fixture
def many_projects(catalogue, small_ranges):
    for name in NAMES:
        catalogue.add(SamplePackage(name, "1.0"))
    return catalogue


def stored_parts(mirror_root: Path) -> dict[str, tuple]:
    """start -> (lead, html, json, primary_size, primary_gz) of the committed state."""
    db = sqlite3.connect(mirror_root / "publish-work" / "full" / "state.sqlite")
    try:
        return {row[0]: row[1:] for row in db.execute("SELECT * FROM parts ORDER BY start")}
    finally:
        db.close()


def range_start(starts: list[str], name: str) -> str:
    return max(start for start in starts if start <= name)


def fresh_full_publish(mirror_root: Path, settings, tmp_path: Path, collection: Collection) -> Path:
    """Publish the same catalogue from nothing in another MIRROR_ROOT; that root."""
    settings.MIRROR_ROOT = tmp_path / "elsewhere"
    shutil.copytree(mirror_root / "store", settings.MIRROR_ROOT / "store")
    Collection.objects.filter(pk=collection.pk).update(revision=0, published_serial=0)
    Revision.objects.all().delete()
    collection.refresh_from_db()
    collection_publish(collection=collection, full=True)
    return settings.MIRROR_ROOT


def test_a_change_in_one_range_rewrites_only_its_part(many_projects, full_collection, mirror_root, settings, tmp_path):
    collection_publish(collection=full_collection)
    before = stored_parts(mirror_root)
    starts = list(before)
    assert len(starts) >= 4 and starts[0] == ""  # several ranges, the first one from ''
    changed = next(name for name in NAMES if name not in starts)  # inside a range, not at its cut
    many_projects.add(SamplePackage(changed, "2.0"))

    revision = collection_publish(collection=full_collection)
    assert revision is not None and not revision.full
    after = stored_parts(mirror_root)
    assert list(after) == starts
    differing = {start for start in starts if after[start] != before[start]}
    assert differing == {range_start(starts, changed)}
    assert f"{changed.replace('-', '_')}-2.0".encode() in gzip.decompress(after[range_start(starts, changed)][4])

    # The result is a full rebuild's, byte for byte: root pages, primary.json.gz, and the parts.
    pages = tree_snapshot(mirror_root / "pub" / "full")
    repomd = json.loads(pages["repodata/repomd.json"])
    incremental_parts = after
    elsewhere = fresh_full_publish(mirror_root, settings, tmp_path, full_collection)
    fresh = tree_snapshot(elsewhere / "pub" / "full")
    for page in ("simple/index.html", "simple/index.json"):
        assert fresh[page] == pages[page]
    assert json.loads(fresh["repodata/repomd.json"])["data"]["primary"] == repomd["data"]["primary"]
    assert stored_parts(elsewhere) == incremental_parts


def assert_matches_a_one_pass_rendering(mirror_root: Path) -> None:
    """The root pages and primary.json are what rendering every project of the state in one pass gives."""
    root = mirror_root / "pub" / "full"
    db = sqlite3.connect(mirror_root / "publish-work" / "full" / "state.sqlite")
    try:
        projects = db.execute("SELECT name, display_name, serial FROM projects ORDER BY name").fetchall()
        lines = [row[0] for row in db.execute("SELECT line FROM projects ORDER BY name")]
    finally:
        db.close()
    html, page = (root / "simple/index.html").read_bytes(), (root / "simple/index.json").read_bytes()
    assert html == b"".join(root_html_chunks(projects))
    assert page == b"".join(root_json_chunks(projects, json.loads(page)["meta"]["_last-serial"]))
    repomd = json.loads((root / "repodata/repomd.json").read_bytes())
    content = gzip.decompress((root / repomd["data"]["primary"]["location"]).read_bytes())
    expected = '{"version":1,"collection":"full","projects":[\n' + ",\n".join(lines) + "\n]}\n"
    assert content == expected.encode()
    assert repomd["data"]["primary"]["open_sha256"] == hashlib.sha256(content).hexdigest()
    assert repomd["data"]["primary"]["open_size"] == len(content)


def test_new_and_removed_cuts_give_the_parts_of_a_full_rebuild(
    many_projects, full_collection, mirror_root, settings, tmp_path
):
    collection_publish(collection=full_collection)
    starts = list(stored_parts(mirror_root))
    # Remove a project that starts a range and every project of the first range: the first range is
    # empty, so the first part with content is one that usually has a separator.
    many_projects.remove_project(starts[1])
    for name in NAMES:
        if name < starts[1]:
            many_projects.remove_project(name)
    added = [name for name in (f"new-{number}" for number in range(40)) if parts.starts_range(name)][:2]
    for name in added:  # new cuts
        many_projects.add(SamplePackage(name, "1.0"))
    collection_publish(collection=full_collection)
    incremental = stored_parts(mirror_root)
    assert starts[1] not in incremental and set(added) <= set(incremental)
    assert incremental[""][1] == b""  # the first range is empty
    assert_matches_a_one_pass_rendering(mirror_root)

    many_projects.add(SamplePackage("aaa-first", "1.0"))  # and has content again
    collection_publish(collection=full_collection)
    assert_matches_a_one_pass_rendering(mirror_root)
    incremental = stored_parts(mirror_root)
    pages = tree_snapshot(mirror_root / "pub" / "full")
    primary = json.loads(pages["repodata/repomd.json"])["data"]["primary"]

    elsewhere = fresh_full_publish(mirror_root, settings, tmp_path, full_collection)
    assert stored_parts(elsewhere) == incremental
    fresh = tree_snapshot(elsewhere / "pub" / "full")
    assert json.loads(fresh["repodata/repomd.json"])["data"]["primary"] == primary
    assert {k: v for k, v in fresh.items() if k.startswith("simple/")} == {
        k: v for k, v in pages.items() if k.startswith("simple/")
    }


def test_an_empty_collection_has_valid_repodata(full_collection, mirror_root):
    collection_publish(collection=full_collection)
    root = mirror_root / "pub" / "full"
    repomd = json.loads((root / "repodata/repomd.json").read_bytes())
    content = gzip.decompress((root / repomd["data"]["primary"]["location"]).read_bytes())
    assert json.loads(content) == {"version": 1, "collection": "full", "projects": []}
    assert hashlib.sha256(content).hexdigest() == repomd["data"]["primary"]["open_sha256"]
    assert json.loads((root / "simple/index.json").read_bytes())["projects"] == []


def test_blocks_recompress_only_what_changed_and_survive_a_broken_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 1024)
    source, cache = tmp_path / "data", tmp_path / "cache.sqlite"
    data = bytearray(hashlib.sha256(bytes([n % 256])).digest()[n % 32] for n in range(10 * 1024 + 100))
    source.write_bytes(bytes(data))

    def run() -> tuple[bytes, dict]:
        out, stats = io.BytesIO(), {}
        opened = blocks.write_blocks_gz(source, cache, out, stats)
        assert gzip.decompress(out.getvalue()) == source.read_bytes()
        assert (opened.sha256, opened.size) == (
            hashlib.sha256(source.read_bytes()).hexdigest(),
            len(source.read_bytes()),
        )
        return out.getvalue(), stats

    first, stats = run()
    assert stats == {"blocks": 11, "blocks_compressed": 11}
    data[3 * 1024 + 5] ^= 0xFF
    source.write_bytes(bytes(data[: 9 * 1024]))  # one block changed, two gone
    _, stats = run()
    assert stats == {"blocks": 9, "blocks_compressed": 1}
    # A member made from other bytes (a stale row) is never used; an unreadable cache is replaced.
    db = sqlite3.connect(cache)
    db.execute("UPDATE blocks SET sha256 = zeroblob(32), member = ? WHERE idx = 0", (gzip.compress(b"wrong"),))
    db.commit()
    db.close()
    _, stats = run()
    assert stats["blocks_compressed"] == 1
    cache.write_bytes(b"not a database" * 100)
    _, stats = run()
    assert stats["blocks_compressed"] == 9


def test_the_root_page_is_rebuilt_only_when_the_listing_changes(catalogue, full_collection, mirror_root, monkeypatch):
    """The PEP 503 root page lists names and display names: a publish that changes only files leaves it
    as it is; one that adds, removes or renames a project writes it again."""
    from sync.models import Project
    from sync.services import catalogue_next_serial

    catalogue.add(SamplePackage("alpha", "1.0"))
    catalogue.add(SamplePackage("beta", "1.0"))
    collection_publish(collection=full_collection)
    assembled: list[int] = []
    real_chunks = parts.ProjectParts.root_html_chunks

    def root_html_chunks(self):
        assembled.append(1)
        return real_chunks(self)

    monkeypatch.setattr(parts.ProjectParts, "root_html_chunks", root_html_chunks)
    root = mirror_root / "pub" / "full" / "simple" / "index.html"

    def publish_and_list() -> tuple[bool, str]:
        assembled.clear()
        assert collection_publish(collection=full_collection) is not None
        return bool(assembled), root.read_text()

    catalogue.add(SamplePackage("alpha", "2.0"))  # files only
    rebuilt, page = publish_and_list()
    assert not rebuilt and ">alpha<" in page and ">beta<" in page

    Project.objects.filter(normalized_name="beta").update(name="Beta", change_serial=catalogue_next_serial())
    rebuilt, page = publish_and_list()
    assert rebuilt and ">Beta<" in page

    catalogue.add(SamplePackage("gamma", "1.0"))
    rebuilt, page = publish_and_list()
    assert rebuilt and ">gamma<" in page

    catalogue.remove_project("alpha")
    rebuilt, page = publish_and_list()
    assert rebuilt and ">alpha<" not in page and ">Beta<" in page
