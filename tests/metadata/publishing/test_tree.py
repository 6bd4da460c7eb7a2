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


def test_a_new_projects_pages_are_staged_as_a_folder_and_moved_whole(mirror_root):
    tree = CollectionTree("full")
    tree.root.mkdir(parents=True)
    tree.reset_staging()
    pages = {"index.html": b"<html>new</html>", "index.json": b"{}"}
    assert tree.stage_pages("simple/fresh", pages) == 2
    staged = tree.staging / flat_name("simple/fresh")
    assert staged.is_dir()
    tree.replace_folder(staged, tree.path("simple/fresh"))  # the tree's simple/ is made on the way
    assert {page.name: page.read_bytes() for page in tree.path("simple/fresh").iterdir()} == pages
    assert not staged.exists()
    # The folder is in the tree now: its unchanged pages are not staged again, a changed one is, as a page.
    assert tree.stage_pages("simple/fresh", {**pages, "index.json": b'{"v": 2}'}) == 1
    assert [path.name for path in tree.staging.iterdir()] == [flat_name("simple/fresh/index.json")]


def test_a_staged_folder_the_tree_already_has_is_moved_page_by_page(mirror_root):
    """The switch of a folder that a crash left half moved (or that appeared since it was staged)."""
    tree = CollectionTree("full")
    target = tree.path("simple/fresh")
    target.mkdir(parents=True)
    (target / "index.html").write_bytes(b"old")
    tree.reset_staging()
    staged = tree.staging / flat_name("simple/fresh")
    staged.mkdir()
    (staged / "index.html").write_bytes(b"new")
    (staged / "index.json").write_bytes(b"{}")
    tree.replace_folder(staged, target)
    assert {page.name: page.read_bytes() for page in target.iterdir()} == {"index.html": b"new", "index.json": b"{}"}
    assert not staged.exists()


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


def _dot_names(root) -> list[str]:
    """Every name under the tree that is a temporary (all of the publisher's start with a dot)."""
    import os

    found = []
    for folder, dirs, files in os.walk(root):
        found.extend(f"{folder}/{name}" for name in dirs + files if name.startswith("."))
    return found


def test_a_reader_of_pub_never_sees_a_temporary_file(base_catalogue, full_collection, mirror_root, monkeypatch):
    """A copy loop (os.walk + read, as rsync does) runs while the tree is published again and again, through
    every path that writes a temporary: repodata, a re-link of a replaced blob, a copy when a link fails.
    Besides the loop, every rename and link the publisher makes first looks at the tree: the moment a
    temporary would be there, it is seen."""
    import errno
    import os
    import threading

    from sync.blobstore import blob_path

    pub = mirror_root / "pub"
    seen: list[str] = []
    real_replace, real_link = os.replace, os.link
    refuse_links = {"on": False}

    def replace(src, dst, *args, **kwargs):
        seen.extend(_dot_names(pub))
        return real_replace(src, dst, *args, **kwargs)

    def link(src, dst, *args, **kwargs):
        seen.extend(_dot_names(pub))
        if refuse_links["on"] and str(dst).startswith(str(pub)) and "/packages/" in str(dst):
            raise OSError(errno.EXDEV, "cross-device link")
        return real_link(src, dst, *args, **kwargs)

    stop = threading.Event()

    def copy_loop() -> None:
        while not stop.is_set():
            for folder, _dirs, files in os.walk(pub):
                for name in files:
                    if name.startswith("."):
                        seen.append(f"{folder}/{name}")
                        continue
                    try:
                        with open(os.path.join(folder, name), "rb") as handle:
                            handle.read()
                    except FileNotFoundError:
                        seen.append(f"vanished: {folder}/{name}")

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "link", link)
    reader = threading.Thread(target=copy_loop, daemon=True)
    reader.start()
    try:
        collection_publish(collection=full_collection)
        for round_ in range(6):
            file = base_catalogue.add(SamplePackage("greeter", f"0.{4 + round_}.0"))
            if round_ == 2:  # a blob replaced by a new inode (as verify --repair does): the tree re-links it
                blob = blob_path(file.sha256)
                data = blob.read_bytes()
                blob.unlink()
                blob.write_bytes(data)
                base_catalogue.touch("greeter")
            refuse_links["on"] = round_ == 4  # links refused: the tree copies
            assert collection_publish(collection=full_collection) is not None
    finally:
        stop.set()
        reader.join(timeout=30)
    assert seen == []
    assert not list((mirror_root / "publish-work" / "full" / "tmp").iterdir())
