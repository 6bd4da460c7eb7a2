"""mm_mirror.tree and `mm-mirror check`: a copy checked against its own repomd.json and primary data."""

from __future__ import annotations

import hashlib
import json

import pytest
from mm_mirror.cli import main
from mm_mirror.errors import GAPS, OK
from mm_mirror.tree import REPOMD, TreeError, check_pages, check_tree, iter_primary, parse_repomd, project_pages

from sync.sample_packages import SamplePackage

pytestmark = pytest.mark.django_db


def copy(origin, tmp_path):
    return origin.snapshot(tmp_path / "copy")


def listed(tree):
    repomd = parse_repomd((tree / REPOMD).read_bytes())
    return repomd, list(iter_primary(tree / repomd.entry("primary").location, repomd.entry("primary")))


def test_a_published_tree_is_whole(origin, tmp_path, capsys):
    tree = copy(origin, tmp_path)
    result = check_tree(tree, hashes=True)
    assert result.whole, result.gaps
    repomd, files = listed(tree)
    assert result.files == len(files) == 9
    assert result.bytes == sum(file.size for file in files)
    assert repomd.sha256 == hashlib.sha256((tree / REPOMD).read_bytes()).hexdigest()
    assert not check_pages(tree, project_pages(tree))
    assert main(["check", str(tree), "--hashes", "--pages"]) == OK
    assert "whole" in capsys.readouterr().err


def test_check_finds_each_kind_of_gap(origin, tmp_path, capsys):
    tree = copy(origin, tmp_path)
    repomd, files = listed(tree)
    missing, short, corrupt = files[0], files[1], files[2]
    (tree / missing.location).unlink()
    (tree / short.location).write_bytes(b"short")
    data = bytearray((tree / corrupt.location).read_bytes())
    data[0] ^= 0xFF  # same size, other bytes: only --hashes sees it
    (tree / corrupt.location).write_bytes(bytes(data))
    primary_db = repomd.entry("primary_db")
    (tree / primary_db.location).unlink()

    assert main(["check", str(tree)]) == GAPS
    out = capsys.readouterr().out.splitlines()
    assert f"missing: {missing.location}" in out
    assert any(line.startswith(f"size: {short.location}") for line in out)
    assert any(line.startswith(f"missing: {primary_db.location}") for line in out)
    assert not any(corrupt.location in line for line in out)

    assert main(["check", str(tree), "--hashes"]) == GAPS
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"sha256: {corrupt.location}") for line in out)
    assert len(out) == 4


def test_a_missing_or_damaged_primary_is_a_gap(origin, tmp_path):
    tree = copy(origin, tmp_path)
    repomd, _ = listed(tree)
    primary = tree / repomd.entry("primary").location
    primary.write_bytes(primary.read_bytes()[:-10])
    gaps = check_tree(tree).gaps
    assert [gap.kind for gap in gaps] == ["size"]
    primary.unlink()
    gaps = check_tree(tree).gaps
    assert [(gap.kind, gap.path) for gap in gaps] == [("missing", repomd.entry("primary").location)]


def test_no_or_bad_manifest(origin, tmp_path, capsys):
    tree = copy(origin, tmp_path)
    (tree / REPOMD).write_text("{not json")
    assert [gap.kind for gap in check_tree(tree).gaps] == ["unreadable"]
    (tree / REPOMD).write_text(json.dumps({"version": 1, "revision": 1, "data": {"primary": {"location": "../x"}}}))
    assert [gap.kind for gap in check_tree(tree).gaps] == ["unreadable"]
    (tree / REPOMD).unlink()
    assert main(["check", str(tree)]) == GAPS
    assert "missing: repodata/repomd.json" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "nowhere")]) == 2


def test_a_copy_of_another_collection_is_a_gap_when_the_collection_is_given(origin, tmp_path, capsys):
    tree = copy(origin, tmp_path)
    assert main(["check", str(tree), "--collection", "wheels"]) == GAPS
    assert "collection: repodata/repomd.json" in capsys.readouterr().out
    assert main(["check", str(tree), "--collection", "full"]) == OK


def test_pages_that_link_to_missing_files(origin, tmp_path):
    tree = copy(origin, tmp_path)
    _, files = listed(tree)
    wheel = next(file for file in files if file.core_metadata_sha256)
    (tree / (wheel.location + ".metadata")).unlink()
    gaps = check_pages(tree, project_pages(tree))
    assert {gap.path for gap in gaps} == {wheel.location + ".metadata"}
    assert len(gaps) == 2  # linked from index.html and from index.json


def test_primary_that_does_not_start_like_one(tmp_path):
    import gzip

    path = tmp_path / "p.json.gz"
    path.write_bytes(gzip.compress(b'{"something": "else"}\n'))
    with pytest.raises(TreeError):
        list(iter_primary(path))


def test_a_project_line_without_files_is_unreadable_unless_removed(tmp_path):
    import gzip

    path = tmp_path / "p.json.gz"
    header = b'{"version":1,"collection":"full","projects":[\n'
    path.write_bytes(gzip.compress(header + b'{"name":"gone","removed":true}\n]}\n'))
    assert list(iter_primary(path)) == []
    path.write_bytes(gzip.compress(header + b'{"name":"broken"}\n]}\n'))
    with pytest.raises(TreeError, match="unreadable"):
        list(iter_primary(path))


def test_a_revision_between_rebases_is_checked_from_its_base_and_updates(origin, tmp_path, monkeypatch):
    from metadata.publishing import updates

    monkeypatch.setattr(updates, "UPDATES_SHARE", 0)  # no rebase: the new files are listed in the updates only
    origin.catalogue.remove_project("numbers")
    origin.publish(SamplePackage("newcomer", "1.0"))
    tree = copy(origin, tmp_path)
    repomd = parse_repomd((tree / REPOMD).read_bytes())
    base_files = {file.location for file in iter_primary(tree / repomd.entry("primary").location)}
    update_files = list(iter_primary(tree / repomd.entry("primary_updates").location))
    assert len(update_files) == 1 and update_files[0].location not in base_files
    removed = [location for location in base_files if "/numbers-" in location]
    assert removed
    for location in removed:  # a mirror that deleted the removed project's files is whole
        (tree / location).unlink(missing_ok=True)
    result = check_tree(tree, hashes=True)
    assert result.whole, result.gaps
    assert result.files == len(base_files) - len(removed) + 1
    (tree / update_files[0].location).unlink()  # a file that only the updates list is still required
    assert [gap.kind for gap in check_tree(tree).gaps] == ["missing"]
