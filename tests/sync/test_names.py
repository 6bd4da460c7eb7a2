"""File names are checked before anything touches the disk."""

from __future__ import annotations

import pytest

from sync.engine.names import UnsafeFilename, parse_filename


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
