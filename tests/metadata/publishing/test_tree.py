"""A collection's tree (metadata.publishing.tree): paths stay inside it, staged names are reversible, one
publish at a time."""

from __future__ import annotations

import fcntl
import logging
import signal
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command

from metadata.publishing.tree import REPOMD, CollectionTree, flat_name, unflat_name
from metadata.services import collection_publish
from sync.sample_packages import SamplePackage

pytestmark = pytest.mark.django_db


@contextmanager
def deadline(seconds: int):
    """Fail instead of hanging for ever (a publish that waits on a lock)."""

    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(
    "relative",
    ["simple/a+b/index.html", "simple/a%2Bb/index.json", "simple/x/index.html", REPOMD, "simple/%+%2F/index.html"],
)
def test_staging_names_are_reversible(relative):
    flat = flat_name(relative)
    assert "/" not in flat
    assert unflat_name(flat) == relative


def test_the_tree_refuses_paths_outside_its_root(catalogue, mirror_root):
    good = catalogue.add(SamplePackage("a", "1.0"))
    tree = CollectionTree("full")
    tree.root.mkdir(parents=True)
    from sync.blobstore import blob_path

    for relative in ("packages/aa/bb/../../../../x.whl", "../x", "/etc/x", "packages/aa/bb/cc/"):
        with pytest.raises(ValueError, match="outside"):
            tree.link_data_file(blob_path(good.sha256), relative)
        with pytest.raises(ValueError, match="outside"):
            tree.remove_data_file(relative)
    assert not (mirror_root / "pub" / "x").exists()


def test_a_busy_collection_is_skipped_not_waited_for(base_catalogue, full_collection, mirror_root, caplog):
    tree = CollectionTree("full")
    tree.work.mkdir(parents=True)
    with open(tree.work / "lock", "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        caplog.set_level(logging.INFO, logger="metadata")
        with deadline(20):
            assert collection_publish(collection=full_collection) is None
            out = StringIO()
            call_command("publish", "--collection", "full", stdout=out)
            assert out.getvalue().strip() == "full: busy: another publish is running; the next run picks the changes up"
            out = StringIO()
            call_command("publish", stdout=out)
            assert "full: busy: another publish is running" in out.getvalue()
        assert "busy: another publish is running; the next run picks the changes up" in caplog.text
        assert not (mirror_root / "pub" / "full" / REPOMD).exists()
    assert collection_publish(collection=full_collection).number == 1
