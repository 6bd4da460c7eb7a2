"""mm_mirror.sync and `mm-mirror sync`: rsync passes, the staged manifest, exit codes."""

from __future__ import annotations

import socket
import stat

import pytest
from mm_mirror.cli import main
from mm_mirror.errors import GAPS, OK, RSYNC
from mm_mirror.sync import STAGED_REPOMD, SyncOptions, collection_sync
from mm_mirror.tree import REPOMD, check_pages, check_tree, project_pages

from sync.sample_packages import SamplePackage

pytestmark = pytest.mark.django_db


def whole(tree) -> bool:
    return check_tree(tree, hashes=True).whole and not check_pages(tree, project_pages(tree))


def test_a_first_copy_is_whole(origin, tmp_path, capsys):
    dest = tmp_path / "dest"
    assert main(["sync", str(origin.root), str(dest)]) == OK
    out = capsys.readouterr()
    assert "whole (9 files" in out.out
    assert whole(dest)
    assert (dest / REPOMD).read_bytes() == (origin.root / REPOMD).read_bytes()
    assert not (dest / STAGED_REPOMD).exists()


def test_a_later_copy_brings_the_new_revision_and_deletes_only_with_delete(origin, tmp_path):
    dest = tmp_path / "dest"
    collection_sync(SyncOptions(source=str(origin.root), dest=dest))
    origin.catalogue.remove_project("numbers")
    origin.publish(SamplePackage("newcomer", "1.0"))
    report = collection_sync(SyncOptions(source=str(origin.root), dest=dest))
    assert report.check.repomd.revision == 2
    assert whole(dest)
    assert (dest / "simple" / "newcomer" / "index.json").is_file()
    assert (dest / "simple" / "numbers" / "index.json").is_file()  # still there: no --delete
    collection_sync(SyncOptions(source=str(origin.root), dest=dest, delete=True))
    assert not (dest / "simple" / "numbers").exists()
    assert whole(dest)


def test_a_source_whose_manifest_names_missing_files_never_gets_installed(origin, tmp_path, capsys):
    dest = tmp_path / "dest"
    collection_sync(SyncOptions(source=str(origin.root), dest=dest))
    before = (dest / REPOMD).read_bytes()
    source = origin.snapshot(tmp_path / "broken")
    origin.publish(SamplePackage("newcomer", "1.0"))
    broken = origin.snapshot(tmp_path / "broken2")
    wheel = next(broken.glob("packages/*/*/*/newcomer-1.0-py3-none-any.whl"))
    wheel.unlink()
    assert main(["sync", str(broken), str(dest), "--max-rounds", "2"]) == GAPS
    err = capsys.readouterr().err
    assert "not whole after 2 attempts" in err and "newcomer-1.0-py3-none-any.whl" in err
    assert (dest / REPOMD).read_bytes() == before  # the previous, whole manifest stays
    assert source.is_dir()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_rsync_failures_exit_4(origin, tmp_path, capsys):
    url = f"rsync://127.0.0.1:{free_port()}/pub/full/"
    assert main(["sync", url, str(tmp_path / "dest"), "--rsync-option=--contimeout=5"]) == RSYNC
    assert "rsync exited" in capsys.readouterr().err


def fake_rsync(tmp_path, code: int, *, only_when: str = "") -> str:
    script = tmp_path / f"rsync-{code}"
    condition = f'case "$*" in *{only_when}*) exit {code};; esac' if only_when else f"exit {code}"
    script.write_text(f'#!/bin/sh\nrsync "$@" || exit $?\n{condition}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_exit_24_is_tolerated_and_other_codes_are_not(origin, tmp_path, capsys):
    assert main(["sync", str(origin.root), str(tmp_path / "a"), "--rsync", fake_rsync(tmp_path, 24)]) == OK
    assert "exited 24 (tolerated" in capsys.readouterr().err
    assert whole(tmp_path / "a")
    assert main(["sync", str(origin.root), str(tmp_path / "b"), "--rsync", fake_rsync(tmp_path, 23)]) == RSYNC
    assert not (tmp_path / "b" / REPOMD).exists()


def test_bad_arguments(origin, tmp_path, capsys):
    assert main(["sync", str(tmp_path / "nowhere"), str(tmp_path / "dest")]) == 2
    assert "neither an rsync URL nor a folder" in capsys.readouterr().err
    assert main(["sync", str(origin.root), str(tmp_path / "dest"), "--max-rounds", "0"]) == 2
    assert main(["sync", str(origin.root), str(tmp_path / "dest"), "--rsync", "no-such-rsync"]) == 2
