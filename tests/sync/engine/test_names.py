"""File names are checked before anything touches the disk."""

from __future__ import annotations

import io
import tarfile
import zipfile
from types import SimpleNamespace

import pytest

from sync.engine.archive import archive_check
from sync.engine.names import (
    SDIST_SUFFIXES,
    UnsafeFilename,
    UnsafeProjectName,
    check_project_name,
    egg_tags,
    is_normalized_project_name,
    is_sdist_filename,
    parse_filename,
)
from sync.filters import FilterSpec


@pytest.mark.parametrize(
    ("filename", "version", "package_type"),
    [
        ("mm_hello-1.0.0-py3-none-any.whl", "1.0.0", "bdist_wheel"),
        ("numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "2.1.0", "bdist_wheel"),
        ("mm_hello-1.0.0.tar.gz", "1.0.0", "sdist"),
        ("mm-hello-1.0.zip", "1.0", "sdist"),
        ("old_thing-0.9.tar.bz2", "0.9", "sdist"),
        ("setuptools-0.6c11-py2.7.egg", "0.6rc11", "bdist_egg"),
    ],
)
def test_good_names_parse(filename, version, package_type):
    parsed = parse_filename(filename)
    assert (parsed.version, parsed.package_type) == (version, package_type)


@pytest.mark.parametrize(
    "filename",
    [
        "../x.whl",
        "a/b.whl",
        "a\\b-1.0-py3-none-any.whl",
        "..evil-1.0-py3-none-any.whl",
        ".hidden-1.0.tar.gz",
        "x.whl",
        "readme.txt",
        "name-1.0-py3-none-any.whl\x00.txt",
        "C:evil-1.0.tar.gz",
        "",
        "a" * 300 + ".whl",
    ],
)
def test_unsafe_names_are_refused(filename):
    with pytest.raises(UnsafeFilename):
        parse_filename(filename)


# -- one list of sdist suffixes, used by the names, the filters and the archive check alike -----------


@pytest.mark.parametrize("suffix", SDIST_SUFFIXES)
def test_every_sdist_suffix_is_an_sdist_everywhere(suffix, tmp_path):
    filename = f"old_thing-0.9{suffix}"
    assert parse_filename(filename).package_type == "sdist"
    assert is_sdist_filename(filename)
    # An sdist passes a platform filter (it builds anywhere), whatever its package type says.
    record = SimpleNamespace(filename=filename, version="0.9", package_type="other", size=1, requires_python="")
    assert FilterSpec.from_dict({"platform_tags": ["win_amd64"]}).file_allowed(record)
    # And the archive check knows how to read it through.
    path = tmp_path / filename
    if suffix == ".zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("old_thing-0.9/PKG-INFO", "Name: old_thing\n")
    else:
        mode = {".tar.gz": "w:gz", ".tgz": "w:gz", ".tar.bz2": "w:bz2", ".tar.xz": "w:xz", ".tar": "w"}[suffix]
        with tarfile.open(path, mode) as archive:
            data = b"Name: old_thing\n"
            info = tarfile.TarInfo("old_thing-0.9/PKG-INFO")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    archive_check(path, filename, max_unpacked_bytes=1 << 20)


def test_the_sdist_suffixes_are_the_union_of_what_the_three_places_knew():
    assert set(SDIST_SUFFIXES) == {".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar"}


@pytest.mark.parametrize(
    ("filename", "python", "platform"),
    [
        ("setuptools-0.6c11-py2.7.egg", (2, 7), "any"),
        ("lxml-2.2-py2.6-linux-x86_64.egg", (2, 6), "linux-x86_64"),
        ("thing-1.0-py3.egg", None, None),  # no minor version: not matched by version or platform
        ("thing-1.0.egg", None, None),
    ],
)
def test_egg_tags(filename, python, platform):
    tags = egg_tags(filename)
    assert (tags.python, tags.platform) == (python, platform) if python else tags is None


@pytest.mark.parametrize("name", ["foo\n", "foo\r\n", "Foo.Bar\n"])
def test_a_trailing_newline_is_not_a_project_name(name):
    with pytest.raises(UnsafeProjectName, match="not a valid name"):
        check_project_name(name)
    assert not is_normalized_project_name("foo\n")


@pytest.mark.parametrize(
    "filename",
    ["mm_x-1.0-py3-none-any.whl\n", "mm_x-1.0.tar.gz\n", "mm_x-1.0-py2.7.egg\n"],
)
def test_a_trailing_newline_is_not_a_file_name(filename):
    with pytest.raises(UnsafeFilename):
        parse_filename(filename)


def test_file_names_are_bounded_in_utf8_bytes_not_characters():
    too_long = "é" * 120 + "-1.0-py3-none-any.whl"  # 141 characters, 261 bytes
    assert len(too_long) < 255 < len(too_long.encode())
    with pytest.raises(UnsafeFilename, match="longer than 255 bytes"):
        parse_filename(too_long)
    fits = "a" * (255 - len("-1.0.tar.gz")) + "-1.0.tar.gz"
    assert parse_filename(fits).version == "1.0"


def test_a_lone_surrogate_or_nul_is_not_a_file_name():
    for filename in ("mm_x-1.0\ud800.tar.gz", "mm\x00x-1.0.tar.gz"):
        with pytest.raises(UnsafeFilename):
            parse_filename(filename)
