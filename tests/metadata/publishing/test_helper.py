"""The links of a large publish made by a helper process (metadata.publishing.helper): the same tree as
links made in process, hostile and missing files skipped the same way, a full disk or a helper that dies
fails the publish and leaves the previous revision whole."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import signal

import pytest

from metadata.models import Revision
from metadata.publishing import helper, publisher
from metadata.publishing.helper import BatchOutcome, LinkFailure
from metadata.publishing.projects import ProjectPages
from metadata.publishing.tree import REPOMD
from metadata.services import collection_publish
from sync.blobstore import blob_path
from sync.models import File
from sync.sample_packages import SamplePackage
from tests.factories import hostile_file
from tests.metadata.conftest import tree_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def helper_links(monkeypatch):
    """Every publish links and stages its pages through the helper process, from its first chunk; the helpers
    started are counted."""
    monkeypatch.setattr(publisher, "PROCESS_MIN_NAMES", 0)
    started: list[helper.PublishHelper] = []
    real_init = helper.PublishHelper.__init__

    def init(self, links, pages):
        real_init(self, links, pages)
        started.append(self)

    monkeypatch.setattr(helper.PublishHelper, "__init__", init)
    return started


def test_the_helper_makes_the_tree_that_links_in_process_make(
    base_catalogue, full_collection, mirror_root, helper_links, monkeypatch
):
    revision = collection_publish(collection=full_collection)
    assert helper_links and revision.files > 0
    root = mirror_root / "pub" / "full"
    with_helper = tree_snapshot(root)
    helper_inodes = {path.relative_to(root): path.stat().st_nlink for path in root.rglob("*.whl")}

    shutil.rmtree(mirror_root / "pub")
    shutil.rmtree(mirror_root / "publish-work")
    Revision.objects.all().delete()
    full_collection.refresh_from_db()
    full_collection.revision, full_collection.published_serial = 0, 0
    full_collection.save()
    monkeypatch.setattr(publisher, "PROCESS_MIN_NAMES", 10**9)
    collection_publish(collection=full_collection)
    in_process = tree_snapshot(root)
    assert len(helper_links) == 1  # no helper the second time

    def pages(snapshot):  # repomd.json carries the revision's timestamp
        return {path: data for path, data in snapshot.items() if path != REPOMD}

    assert pages(with_helper) == pages(in_process)
    assert {path.relative_to(root): path.stat().st_nlink for path in root.rglob("*.whl")} == helper_inodes


def test_hostile_and_missing_files_are_skipped_by_the_helper_too(
    catalogue, full_collection, mirror_root, helper_links, caplog
):
    good = catalogue.add(SamplePackage("a", "1.0"))
    lost = catalogue.add(SamplePackage("a", "2.0"))
    blob_path(lost.sha256).unlink()
    hostile_file(good.project, filename="../../../../escaped.tar.gz", sha256=good.sha256)
    caplog.set_level(logging.ERROR, logger="metadata.publishing")

    revision = collection_publish(collection=full_collection)

    assert helper_links
    files = json.loads((mirror_root / "pub/full/simple/a/index.json").read_bytes())["files"]
    assert [file["filename"] for file in files] == [good.filename]
    assert revision.files == 1
    assert "is missing from the store: not published" in caplog.text and lost.filename in caplog.text
    assert "'../../../../escaped.tar.gz'" in caplog.text
    assert not list(mirror_root.parent.rglob("escaped.tar.gz"))


def test_a_helper_that_dies_fails_the_publish_and_the_previous_revision_stays(
    base_catalogue, full_collection, mirror_root, helper_links, monkeypatch
):
    collection_publish(collection=full_collection)
    root = mirror_root / "pub" / "full"
    before = tree_snapshot(root)
    base_catalogue.add(SamplePackage("greeter", "0.4.0"))
    real_send = helper.PublishHelper.send_links

    def send_then_die(self, orders):
        real_send(self, orders)
        os.kill(self._process.pid, signal.SIGKILL)
        self._process.wait()

    monkeypatch.setattr(helper.PublishHelper, "send_links", send_then_die)
    with pytest.raises(RuntimeError, match="publish helper process stopped"):
        collection_publish(collection=full_collection)

    after = tree_snapshot(root)
    assert {path: data for path, data in after.items() if not path.startswith("packages/")} == {
        path: data for path, data in before.items() if not path.startswith("packages/")
    }
    assert Revision.objects.count() == 1
    monkeypatch.setattr(helper.PublishHelper, "send_links", real_send)
    assert collection_publish(collection=full_collection).number == 2  # the next publish does it
    assert "greeter-0.4.0" in (root / "simple/greeter/index.html").read_text()
    assert all(helper._process.poll() is not None for helper in helper_links)  # none left running


def test_a_full_disk_met_by_the_helper_fails_the_publish(base_catalogue, full_collection, mirror_root, monkeypatch):
    """ENOSPC, EDQUOT and EROFS fail the publish (every later file would fail too); another error skips the file."""
    real_finish = ProjectPages.finish
    first = {"done": False}

    def finish_with(error_number):
        def finish(self, chunk, outcome, writes):
            if not first["done"] and chunk.orders:
                first["done"] = True
                failure = LinkFailure(chunk.orders[0].relative, OSError(error_number, os.strerror(error_number)))
                outcome = BatchOutcome(outcome.packages_linked, [failure, *outcome.failures])
            return real_finish(self, chunk, outcome, writes)

        return finish

    monkeypatch.setattr(ProjectPages, "finish", finish_with(errno.ENOSPC))
    with pytest.raises(OSError, match="No space left"):
        collection_publish(collection=full_collection)
    assert not (mirror_root / "pub" / "full" / REPOMD).exists()

    first["done"] = False
    monkeypatch.setattr(ProjectPages, "finish", finish_with(errno.ENAMETOOLONG))
    revision = collection_publish(collection=full_collection)
    assert revision.files == File.objects.count() - 1  # that file skipped, the publish done


def test_a_page_the_helper_cannot_stage_stops_its_batch_with_the_error(tmp_path):
    from metadata.publishing.helper import PageOrder, StagedPages, stage_batch

    (tmp_path / "staging").mkdir()
    pages = StagedPages(str(tmp_path / "tree"), str(tmp_path / "staging"))
    good = PageOrder("simple/a", "simple+a", [("index.html", "simple+a+index.html", b"a")])
    clash = PageOrder("simple/a", "simple+a", [("index.html", "simple+a+index.html", b"again")])  # folder exists
    outcome = stage_batch(pages, [good, clash, good])
    assert outcome.staged == 1 and isinstance(outcome.error, FileExistsError)
    assert (tmp_path / "staging" / "simple+a" / "index.html").read_bytes() == b"a"


def test_a_republish_through_the_helper_counts_its_staged_pages(base_catalogue, full_collection, helper_links):
    assert collection_publish(collection=full_collection).number == 1
    assert collection_publish(collection=full_collection) is None  # nothing staged: no revision
    base_catalogue.add(SamplePackage("greeter", "0.4.0"))
    assert collection_publish(collection=full_collection).number == 2
