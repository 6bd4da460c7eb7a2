"""File names from an upstream, checked before anything touches the disk."""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from sync.engine.text import is_storable

# Every sdist suffix an index may serve (compare lower-cased). packaging parses the two that PEP 625
# allows (.tar.gz, .zip); older sdists use the others, parsed by packaging as if they were .tar.gz.
SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar")
_PACKAGING_SDIST_SUFFIXES = (".tar.gz", ".zip")
WHEEL_SUFFIX = ".whl"
EGG_SUFFIX = ".egg"
_DISTRIBUTION_SUFFIXES = (WHEEL_SUFFIX, *SDIST_SUFFIXES, EGG_SUFFIX)
# name-version[-pyX[.Y][-platform]].egg, as setuptools writes them (packaging has no egg parser).
_EGG_RE = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._]*?)-(?P<version>[^-]+)"
    r"(?:-py(?P<py_major>\d+)(?:\.(?P<py_minor>\d+))?(?:-(?P<platform>[^/\\]+))?)?\.egg\Z"
)
_FORBIDDEN_CHARS = ("/", "\\", "\x00", ":")
_CONTROL_RE = re.compile("[\x00-\x1f\x7f]")  # one scan in C: publication checks millions of names
MAX_FILENAME_BYTES = 255  # NAME_MAX of Linux file systems, in bytes


# PEP 508 names; a normalized one (PEP 503) is lowercase words joined by single dashes.
# Always used with fullmatch: "$" alone would match before a final newline ("foo\n").
_PROJECT_NAME_RE = re.compile(r"[A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9]", re.IGNORECASE)
_NORMALIZED_NAME_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
MAX_PROJECT_NAME_LENGTH = 200  # Project.name and Project.normalized_name


class UnsafeFilename(ValueError):
    """A file name that is refused before it reaches the disk."""


class UnsafeProjectName(ValueError):
    """A project name that is not a valid PEP 508 name, refused before it reaches a page or a path."""


def check_project_name(name: str) -> str:
    """Check a project name as an upstream spells it; returns its normalized (PEP 503) form."""
    if not isinstance(name, str) or not name or len(name) > MAX_PROJECT_NAME_LENGTH:
        raise UnsafeProjectName(f"project name {name!r}: empty or longer than {MAX_PROJECT_NAME_LENGTH} characters")
    if not _PROJECT_NAME_RE.fullmatch(name):
        raise UnsafeProjectName(f"project name {name!r}: not a valid name (letters, digits, and . _ - inside)")
    return canonicalize_name(name)


def is_normalized_project_name(name: str) -> bool:
    """True for a safe PEP 503 normalized name: safe in a URL path segment, an HTML attribute and a file name."""
    return len(name) <= MAX_PROJECT_NAME_LENGTH and bool(_NORMALIZED_NAME_RE.fullmatch(name))


@dataclass(frozen=True)
class ParsedFilename:
    """What a distribution file name says about the file."""

    name: str  # normalized project name
    version: str
    package_type: str  # File.PackageType value


def check_filename(filename: str) -> None:
    """Check that a file name is safe as one path segment and ends like a distribution (a wheel, an sdist
    or an egg); UnsafeFilename says why it was refused. What publication needs of a catalogue row, whose
    name parse_filename checked in full when the sync took it: parsing it again costs 13 µs a file.

    Refused: path separators, NUL, '..', leading dots, control characters, more than 255 bytes, and any
    other ending.
    """
    if not filename or len(filename.encode("utf-8", errors="surrogatepass")) > MAX_FILENAME_BYTES:
        # File systems count bytes: 120 "é" are 240 bytes, and a wheel name around them passes 255.
        raise UnsafeFilename(f"file name {filename[:300]!r}: empty or longer than {MAX_FILENAME_BYTES} bytes (UTF-8)")
    if not is_storable(filename) or any([char in filename for char in _FORBIDDEN_CHARS]) or ".." in filename:
        raise UnsafeFilename(f"file name {filename!r}: contains a path separator or '..'")
    if filename.startswith(".") or _CONTROL_RE.search(filename):
        raise UnsafeFilename(f"file name {filename!r}: leading dot or control character")
    if not filename.lower().endswith(_DISTRIBUTION_SUFFIXES):
        raise UnsafeFilename(f"file name {filename!r}: not a wheel, sdist or egg name")


def parse_filename(filename: str) -> ParsedFilename:
    """Check a distribution file name and parse it; UnsafeFilename says why it was refused.

    Refused: what check_filename refuses, and anything that does not parse as a wheel, sdist or egg name.
    """
    check_filename(filename)
    lowered = filename.lower()
    try:
        if lowered.endswith(WHEEL_SUFFIX):
            name, version, _build, _tags = parse_wheel_filename(filename)
            return ParsedFilename(str(name), str(version), "bdist_wheel")
        if lowered.endswith(_PACKAGING_SDIST_SUFFIXES):
            name, version = parse_sdist_filename(filename)
            return ParsedFilename(str(name), str(version), "sdist")
        for suffix in SDIST_SUFFIXES:
            if lowered.endswith(suffix):
                name, version = parse_sdist_filename(filename[: -len(suffix)] + ".tar.gz")
                return ParsedFilename(str(name), str(version), "sdist")
    except (InvalidWheelFilename, InvalidSdistFilename) as error:
        raise UnsafeFilename(f"file name {filename!r}: not a wheel or sdist name ({error})") from error
    if lowered.endswith(EGG_SUFFIX):
        match = _EGG_RE.fullmatch(filename)
        if match:
            try:
                version = str(Version(match["version"].replace("_", "-")))
            except InvalidVersion:
                version = ""
            if version:
                return ParsedFilename(canonicalize_name(match["name"]), version, "bdist_egg")
    raise UnsafeFilename(f"file name {filename!r}: not a wheel, sdist or egg name")


def is_sdist_filename(filename: str) -> bool:
    """Does the name end in one of SDIST_SUFFIXES (any case)?"""
    return filename.lower().endswith(SDIST_SUFFIXES)


@dataclass(frozen=True)
class EggTags:
    """What an egg's name says about where it installs."""

    python: tuple[int, int] | None  # (major, minor) of -pyX.Y; None when the name gives no minor
    platform: str  # "any" when the name gives none


def egg_tags(filename: str) -> EggTags | None:
    """The Python version and platform of an egg's file name; None when it is not an egg name with -pyX.Y."""
    match = _EGG_RE.fullmatch(filename)
    if match is None or match["py_minor"] is None:
        return None
    return EggTags((int(match["py_major"]), int(match["py_minor"])), match["platform"] or "any")
