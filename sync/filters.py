"""The content filter engine, shared by upstream filters (the sync) and collections.

A FilterSpec is a frozen value: build it from JSON (Upstream.filters) with FilterSpec.from_dict,
or from a Collection with metadata's Collection.filter_spec(). It answers two questions: is a project
wanted at all (project_allowed, on normalized names), and which of one project's files are
wanted (select_files).

Decisions, so that every caller gets the same answer:

- Project patterns are exact names or shell globs (``*``, ``?``, ``[...]``), matched against
  the normalized (PEP 503) name; the patterns are normalized the same way. Excludes win.
- Platform tags are matched (globs) against the platform part of a wheel's tags; a wheel
  passes when any of its tags matches. An sdist has no platform: it passes the platform filter
  (it builds anywhere); drop sdists with ``package_types`` instead. An egg's platform comes
  from its filename (none = ``any``). Other binary formats carry no reliable platform, so they
  fail a platform filter.
- Python versions (``"3.11"``): a wheel passes when one of its tags installs on one of the
  versions (``py3``, ``py311``, ``cp311``, ``cp38-abi3`` for 3.8 and later of the same major)
  AND its requires_python allows that version. An sdist has no interpreter tag: only
  requires_python counts. A requires_python that packaging cannot parse does not exclude the
  file (upstream noise should not silently drop files; installers ignore such values too).
- Prereleases (and dev releases) are dropped when include_prereleases is False. A file whose
  version cannot be parsed is not a prerelease and ranks lowest for latest_versions.
- A file whose size is unknown passes max_file_size.
- latest_versions keeps the files of the N highest *installable* versions left after every other
  filter. A version is installable when at least one of its kept files is not yanked (PEP 592: a
  release is yanked when all of its files are). Yanked versions take no slot: those newer than the
  N-th installable version are kept too (an `==` pin on them keeps working, as upstream), those older
  are dropped. With fewer than N installable versions, every one of them is kept, with the yanked
  versions newer than the oldest of them. A project with no installable version at all keeps its N
  highest versions (so that pins still install).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from sync.engine.names import egg_tags, is_sdist_filename

PACKAGE_TYPES = ("bdist_wheel", "sdist", "bdist_egg", "other")  # File.PackageType values

_GLOB_RE = re.compile(r"[A-Za-z0-9._\-*?\[\]!]+")
_PYTHON_VERSION_RE = re.compile(r"(\d+)\.(\d+)")
_INTERPRETER_RE = re.compile(r"([a-z]+)(\d)(\d*)")


class FileLike(Protocol):
    filename: str
    version: str
    package_type: str
    size: int | None
    requires_python: str
    yanked: bool


F = TypeVar("F", bound=FileLike)


def _check_glob(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field}: each entry must be a non-empty string, got {value!r}")
    value = value.strip()
    if not _GLOB_RE.fullmatch(value):
        raise ValueError(f"{field}: {value!r} is not a name or glob (letters, digits, . _ - and the wildcards * ? [ ])")
    depth = 0
    for char in value:
        if char == "[":
            if depth:
                raise ValueError(f"{field}: {value!r} has a nested '['")
            depth = 1
        elif char == "]":
            if not depth:
                raise ValueError(f"{field}: {value!r} has a ']' without '['")
            depth = 0
    if depth:
        raise ValueError(f"{field}: {value!r} has an unclosed '['")
    return value


def _string_list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, ())
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError(f"{key}: must be a list of strings, got {value!r}")
    return list(value)


def _optional_positive_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{key}: must be a positive whole number or null, got {value!r}")
    return value


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


@functools.lru_cache(maxsize=4096)
def _specifier(requires_python: str) -> SpecifierSet | None:
    try:
        return SpecifierSet(requires_python)
    except InvalidSpecifier:
        return None


@functools.lru_cache(maxsize=16384)
def _requires_python_allows(requires_python: str, major: int, minor: int) -> bool:
    """True when some major.minor.z fits requires_python (installers test the full version)."""
    if not requires_python.strip():
        return True
    spec = _specifier(requires_python)
    if spec is None:
        return True
    # A spec can single out micro releases (">=3.11.2", "!=3.11.0"): any of them will do.
    return any(spec.contains(Version(f"{major}.{minor}.{micro}"), prereleases=True) for micro in range(0, 40))


def _interpreter_fits(interpreter: str, abi: str, major: int, minor: int) -> bool:
    match = _INTERPRETER_RE.fullmatch(interpreter)
    if not match:
        return False
    tag_major, tag_minor = int(match.group(2)), match.group(3)
    if tag_major != major:
        return False
    if not tag_minor:  # py3: any 3.x
        return True
    if abi == "abi3":  # the stable ABI: this minor and every later one
        return minor >= int(tag_minor)
    return int(tag_minor) == minor


@functools.lru_cache(maxsize=65536)
def _file_version(filename: str, version: str) -> Version | None:
    if version:
        try:
            return Version(version)
        except InvalidVersion:
            return None
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


@functools.lru_cache(maxsize=65536)
def _wheel_tags(filename: str) -> tuple[tuple[str, str, str], ...] | None:
    try:
        tags = parse_wheel_filename(filename)[3]
    except (InvalidWheelFilename, InvalidVersion):
        return None
    return tuple(sorted((tag.interpreter, tag.abi, tag.platform) for tag in tags))


@dataclass(frozen=True)
class FilterSpec:
    """What to keep of a catalogue. Every field empty/None (the default) keeps everything."""

    include_projects: tuple[str, ...] = ()  # exact names or globs, matched on normalized names
    exclude_projects: tuple[str, ...] = ()
    package_types: tuple[str, ...] = ()  # File.PackageType values
    platform_tags: tuple[str, ...] = ()  # wheel platform tag globs, e.g. "manylinux*_x86_64", "any"
    python_versions: tuple[str, ...] = ()  # "3.11": wheels whose tags fit, and requires_python allows
    include_prereleases: bool = True
    latest_versions: int | None = None
    max_file_size: int | None = None

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> FilterSpec:
        """Validate and normalize a JSON object; ValueError with a clear message on bad input."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError(f"filters must be a JSON object, got {type(data).__name__}")
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown filter key(s): {', '.join(map(str, unknown))}; known: {', '.join(sorted(known))}"
            )

        include = [
            canonicalize_name(_check_glob(v, "include_projects")) for v in _string_list(data, "include_projects")
        ]
        exclude = [
            canonicalize_name(_check_glob(v, "exclude_projects")) for v in _string_list(data, "exclude_projects")
        ]

        package_types = []
        for value in _string_list(data, "package_types"):
            if value not in PACKAGE_TYPES:
                raise ValueError(f"package_types: {value!r} is not one of {', '.join(PACKAGE_TYPES)}")
            package_types.append(value)

        platform_tags = [_check_glob(v, "platform_tags").lower() for v in _string_list(data, "platform_tags")]

        python_versions = []
        for value in _string_list(data, "python_versions"):
            if not isinstance(value, str) or not _PYTHON_VERSION_RE.fullmatch(value.strip()):
                raise ValueError(f"python_versions: {value!r} is not a MAJOR.MINOR version such as '3.11'")
            major, minor = _PYTHON_VERSION_RE.fullmatch(value.strip()).groups()
            python_versions.append(f"{int(major)}.{int(minor)}")

        include_prereleases = data.get("include_prereleases", True)
        if not isinstance(include_prereleases, bool):
            raise ValueError(f"include_prereleases: must be true or false, got {include_prereleases!r}")

        return cls(
            include_projects=_dedupe(include),
            exclude_projects=_dedupe(exclude),
            package_types=_dedupe(package_types),
            platform_tags=_dedupe(platform_tags),
            python_versions=_dedupe(python_versions),
            include_prereleases=include_prereleases,
            latest_versions=_optional_positive_int(data, "latest_versions"),
            max_file_size=_optional_positive_int(data, "max_file_size"),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; from_dict(spec.to_dict()) == spec."""
        return {
            "include_projects": list(self.include_projects),
            "exclude_projects": list(self.exclude_projects),
            "package_types": list(self.package_types),
            "platform_tags": list(self.platform_tags),
            "python_versions": list(self.python_versions),
            "include_prereleases": self.include_prereleases,
            "latest_versions": self.latest_versions,
            "max_file_size": self.max_file_size,
        }

    def is_empty(self) -> bool:
        """True when the spec keeps everything."""
        return self == FilterSpec()

    # -- projects -----------------------------------------------------------------------------

    def project_allowed(self, normalized_name: str) -> bool:
        """Is this project (by its PEP 503 normalized name) wanted at all?"""
        if self.include_projects and not any(
            fnmatch.fnmatchcase(normalized_name, pattern) for pattern in self.include_projects
        ):
            return False
        return not any(fnmatch.fnmatchcase(normalized_name, pattern) for pattern in self.exclude_projects)

    def has_file_filters(self) -> bool:
        """True when select_files may drop something."""
        return bool(
            self.package_types
            or self.platform_tags
            or self.python_versions
            or not self.include_prereleases
            or self.latest_versions
            or self.max_file_size
        )

    # -- files --------------------------------------------------------------------------------

    def _platform_ok(self, file: FileLike) -> bool:
        if file.package_type == "sdist" or is_sdist_filename(file.filename):
            return True
        if file.filename.endswith(".whl"):
            tags = _wheel_tags(file.filename)
            if tags is None:
                return False
            return any(
                fnmatch.fnmatchcase(platform, pattern) for _, _, platform in tags for pattern in self.platform_tags
            )
        egg = egg_tags(file.filename)
        if egg:
            platform = egg.platform.lower().replace("-", "_").replace(".", "_")
            return any(fnmatch.fnmatchcase(platform, pattern) for pattern in self.platform_tags)
        return False

    def _python_ok(self, file: FileLike) -> bool:
        requires_python = file.requires_python or ""
        wheel_tags = _wheel_tags(file.filename) if file.filename.endswith(".whl") else None
        egg = egg_tags(file.filename)
        for version in self.python_versions:
            major, minor = (int(part) for part in version.split("."))
            if not _requires_python_allows(requires_python, major, minor):
                continue
            if file.filename.endswith(".whl"):
                if wheel_tags and any(_interpreter_fits(i, a, major, minor) for i, a, _ in wheel_tags):
                    return True
            elif egg:
                if egg.python == (major, minor):
                    return True
            else:
                return True
        return False

    def file_allowed(self, file: FileLike) -> bool:
        """The file-level filters alone (everything but latest_versions)."""
        if self.package_types and file.package_type not in self.package_types:
            return False
        if self.max_file_size is not None and file.size is not None and file.size > self.max_file_size:
            return False
        if not self.include_prereleases:
            version = _file_version(file.filename, file.version)
            if version is not None and (version.is_prerelease or version.is_devrelease):
                return False
        if self.platform_tags and not self._platform_ok(file):
            return False
        return not (self.python_versions and not self._python_ok(file))

    def select_files(self, files: Iterable[F]) -> list[F]:
        """The wanted files of ONE project, in input order; latest N applies after the rest."""
        kept = [file for file in files if self.file_allowed(file)] if self.has_file_filters() else list(files)
        if self.latest_versions is None or not kept:
            return kept
        installable: dict[Any, bool] = {}  # version key -> has a file that is not yanked
        for file in kept:
            key = _version_key(file)
            installable[key] = installable.get(key, False) or not file.yanked
        newest_first = sorted(installable, reverse=True)
        slots = [key for key in newest_first if installable[key]][: self.latest_versions]
        if slots:
            cutoff = slots[-1]  # the N-th installable version (or the oldest, when fewer)
            wanted = {key for key in newest_first if key >= cutoff}
        else:
            wanted = set(newest_first[: self.latest_versions])
        return [file for file in kept if _version_key(file) in wanted]


def _version_key(file: FileLike) -> tuple[int, Any]:
    """Sort key: parsable versions above unparsable ones, which order by their text."""
    version = _file_version(file.filename, file.version)
    if version is None:
        return (0, Version("0"), file.version)
    return (1, version, "")
