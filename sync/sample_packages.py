"""Small, valid wheels and sdists and a static PEP 503 index of them.

Used by `manage.py demo` (a tiny local upstream that works with no internet), by tests and by benchmarks.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import tarfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

_FIXED_MTIME = (2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class SamplePackage:
    """One distribution file to generate."""

    name: str
    version: str
    kind: str = "wheel"  # "wheel" or "sdist"
    requires_python: str = ""
    tag: str = "py3-none-any"
    summary: str = ""
    payload_bytes: int = 0  # extra incompressible-ish data to reach a given size
    dependencies: tuple[str, ...] = field(default_factory=tuple)

    @property
    def dist_name(self) -> str:
        return canonicalize_name(self.name).replace("-", "_")

    @property
    def filename(self) -> str:
        if self.kind == "wheel":
            return f"{self.dist_name}-{self.version}-{self.tag}.whl"
        return f"{self.dist_name}-{self.version}.tar.gz"


def core_metadata(package: SamplePackage) -> bytes:
    """The METADATA / PKG-INFO text of a package (core metadata 2.1)."""
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {package.name}",
        f"Version: {package.version}",
        f"Summary: {package.summary or f'The {package.name} sample package'}",
    ]
    if package.requires_python:
        lines.append(f"Requires-Python: {package.requires_python}")
    lines.extend(f"Requires-Dist: {requirement}" for requirement in package.dependencies)
    return ("\n".join(lines) + "\n\n").encode()


def _payload(package: SamplePackage) -> bytes:
    if not package.payload_bytes:
        return b""
    seed = hashlib.sha256(package.filename.encode()).digest()
    blocks = []
    total = 0
    while total < package.payload_bytes:
        seed = hashlib.sha256(seed).digest()
        blocks.append(seed * 64)
        total += len(seed) * 64
    return b"".join(blocks)[: package.payload_bytes]


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(package: SamplePackage) -> bytes:
    """A wheel that pip and uv install: a module, METADATA, WHEEL and RECORD."""
    module = package.dist_name
    dist_info = f"{module}-{package.version}.dist-info"
    files = {
        f"{module}/__init__.py": f'__version__ = "{package.version}"\n'.encode(),
        f"{dist_info}/METADATA": core_metadata(package),
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: mirrormanager-sample\nRoot-Is-Purelib: true\nTag: {package.tag}\n\n"
        ).encode(),
    }
    payload = _payload(package)
    if payload:
        files[f"{module}/payload.bin"] = payload
    record = [_record_line(path, data) for path, data in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=_FIXED_MTIME)
            info.compress_type = zipfile.ZIP_STORED if path.endswith(".bin") else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def build_sdist(package: SamplePackage) -> bytes:
    """An sdist with PKG-INFO and a pyproject.toml that builds with setuptools."""
    root = f"{package.dist_name}-{package.version}"
    files = {
        f"{root}/PKG-INFO": core_metadata(package),
        f"{root}/pyproject.toml": (
            '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
            f'[project]\nname = "{package.name}"\nversion = "{package.version}"\n'
        ).encode(),
        f"{root}/{package.dist_name}/__init__.py": f'__version__ = "{package.version}"\n'.encode(),
    }
    payload = _payload(package)
    if payload:
        files[f"{root}/{package.dist_name}/payload.bin"] = payload
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = int(time.mktime((*_FIXED_MTIME, 0, 0, 0)))
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def build_package(package: SamplePackage) -> bytes:
    """The bytes of a package's file."""
    return build_wheel(package) if package.kind == "wheel" else build_sdist(package)


def write_static_index(root: Path, packages: list[SamplePackage], *, with_hashes: bool = True) -> dict[str, bytes]:
    """Write a PEP 503 static index: root/simple/<project>/index.html and root/files/<filename>.

    Returns the bytes of each file by filename, for assertions.
    """
    built: dict[str, bytes] = {}
    by_project: dict[str, list[SamplePackage]] = {}
    files_dir = root / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    for package in packages:
        data = build_package(package)
        built[package.filename] = data
        (files_dir / package.filename).write_bytes(data)
        by_project.setdefault(canonicalize_name(package.name), []).append(package)
    simple = root / "simple"
    simple.mkdir(parents=True, exist_ok=True)
    links = "".join(f'<a href="{name}/">{name}</a>\n' for name in sorted(by_project))
    (simple / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
    for name, project_packages in by_project.items():
        anchors = []
        for package in project_packages:
            fragment = f"#sha256={hashlib.sha256(built[package.filename]).hexdigest()}" if with_hashes else ""
            attrs = ""
            if package.requires_python:
                attrs = f' data-requires-python="{html.escape(package.requires_python)}"'
            anchors.append(f'<a href="../../files/{package.filename}{fragment}"{attrs}>{package.filename}</a>\n')
        (simple / name).mkdir(exist_ok=True)
        (simple / name / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{''.join(anchors)}</body></html>\n")
    return built


DEMO_PACKAGES: tuple[SamplePackage, ...] = (
    SamplePackage("mm-demo-hello", "1.0.0", summary="Says hello"),
    SamplePackage("mm-demo-hello", "1.1.0", summary="Says hello, better"),
    SamplePackage("mm-demo-hello", "1.1.0", kind="sdist", summary="Says hello, better"),
    SamplePackage("mm-demo-hello", "2.0.0rc1", summary="Says hello, soon"),
    SamplePackage("mm-demo-greeter", "0.3.0", requires_python=">=3.8", dependencies=("mm-demo-hello>=1.0",)),
    SamplePackage("mm-demo-greeter", "0.3.0", kind="sdist", requires_python=">=3.8"),
    SamplePackage("mm-demo-numbers", "2.1.0", tag="cp311-cp311-manylinux_2_17_x86_64"),
    SamplePackage("mm-demo-numbers", "2.1.0", tag="cp312-cp312-win_amd64"),
    SamplePackage("mm-demo-numbers", "2.1.0", kind="sdist"),
)
