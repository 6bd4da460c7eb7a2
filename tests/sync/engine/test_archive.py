"""The no-hash archive check: every byte read, bombs refused early and in little memory, every error a BadArchive."""

from __future__ import annotations

import bz2
import gzip
import io
import subprocess
import sys
import tarfile
import textwrap
import zlib

import pytest

from sync.engine.archive import BadArchive, archive_check
from sync.sample_packages import SamplePackage, build_package
from tests.sync.hostile import tar_bytes, tar_header_bomb, zip_damage

WHEEL = SamplePackage("mm-arch", "1.0")
SDIST = SamplePackage("mm-arch", "1.0", kind="sdist")
BUDGET = 1024**3


def check(tmp_path, filename: str, data: bytes, **options) -> None:
    path = tmp_path / "blob"
    path.write_bytes(data)
    archive_check(path, filename, max_unpacked_bytes=options.pop("max_unpacked_bytes", BUDGET), **options)


def test_good_archives_pass(tmp_path):
    check(tmp_path, WHEEL.filename, build_package(WHEEL))
    check(tmp_path, SDIST.filename, build_package(SDIST))
    members = {"mm_arch-1.0/PKG-INFO": b"Name: mm-arch\n" * 50, "mm_arch-1.0/empty": b""}
    check(tmp_path, "mm_arch-1.0.tar.xz", tar_bytes(members, compress="xz"))
    check(tmp_path, "mm_arch-1.0.tar", tar_bytes(members, compress=""))
    check(tmp_path, "mm_arch-1.0.tar.bz2", bz2.compress(tar_bytes(members, compress="")))
    long_name = {"mm_arch-1.0/" + "d" * 150 + "/" + "f" * 150: b"pax long name"}
    check(tmp_path, "mm_arch-1.0.tgz", tar_bytes(long_name))


@pytest.mark.parametrize("how", ["deflate", "encrypted", "method"])
def test_a_damaged_wheel_member_is_a_bad_archive(tmp_path, how):
    damaged = zip_damage(build_package(WHEEL), ".dist-info/METADATA", how)
    with pytest.raises(BadArchive, match="does not read through"):
        check(tmp_path, WHEEL.filename, damaged)


def test_a_corrupt_tar_xz_is_a_bad_archive(tmp_path):
    data = bytearray(tar_bytes({"mm_arch-1.0/PKG-INFO": b"x" * 5000}, compress="xz"))
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(BadArchive, match="LZMAError|does not read through"):
        check(tmp_path, "mm_arch-1.0.tar.xz", bytes(data))


def test_flipped_member_bytes_fail_on_the_gzip_trailer(tmp_path):
    """Data changed inside a stored (uncompressed-level) gzip: tar cannot tell, the gzip CRC can."""
    plain = tar_bytes({"mm_arch-1.0/setup.py": b"print('hello')\n" * 100}, compress="")
    packed = bytearray(gzip.compress(plain, compresslevel=0, mtime=0))
    # Level 0 stores the bytes as they are: flip 8 bytes of the member's data, not of a tar header.
    at = packed.find(b"print('hello')") + 20
    packed[at : at + 8] = bytes(b ^ 0x20 for b in packed[at : at + 8])
    with tarfile.open(fileobj=io.BytesIO(bytes(packed))) as archive:  # what the old check did: passes
        for member in archive:
            if member.isfile():
                archive.extractfile(member).read()
    with pytest.raises(BadArchive, match="CRC|BadGzipFile|does not read through"):
        check(tmp_path, "mm_arch-1.0.tar.gz", bytes(packed))


def test_trailing_garbage_after_the_compressed_stream_is_refused(tmp_path):
    data = tar_bytes({"mm_arch-1.0/PKG-INFO": b"x"}) + b"garbage that is not another gzip member"
    with pytest.raises(BadArchive):
        check(tmp_path, "mm_arch-1.0.tar.gz", data)


def test_a_tar_header_bomb_is_refused_by_its_member_count(tmp_path):
    bomb = tar_header_bomb(3_000_000)
    assert len(bomb) < 8 * 1024 * 1024
    with pytest.raises(BadArchive, match="more than 100000 members"):
        check(tmp_path, "mm_bomb-1.0.tar.gz", bomb)
    with pytest.raises(BadArchive, match="more than 10 members"):
        check(tmp_path, "mm_bomb-1.0.tar.gz", bomb, max_members=10)


def test_a_huge_pax_header_is_refused(tmp_path):
    raw = io.BytesIO()
    info = tarfile.TarInfo("mm_arch-1.0/x")
    info.pax_headers = {"comment": "c" * (2 * 1024 * 1024)}
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.addfile(info, io.BytesIO(b""))
    with pytest.raises(BadArchive, match="header extension"):
        check(tmp_path, "mm_arch-1.0.tar.gz", gzip.compress(raw.getvalue()))


def test_a_zip_bomb_and_a_zip_of_too_many_members_are_refused(tmp_path):
    raw = io.BytesIO()
    with zipfile_writer(raw) as archive:
        archive.writestr("mm_arch-1.0/zeros", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(BadArchive, match="unpacks to more than"):
        check(tmp_path, "mm_arch-1.0.zip", raw.getvalue(), max_unpacked_bytes=1024 * 1024)
    many = io.BytesIO()
    with zipfile_writer(many) as archive:
        for index in range(50):
            archive.writestr(f"mm_arch-1.0/{index}", b"")
    with pytest.raises(BadArchive, match="more than 20 members"):
        check(tmp_path, "mm_arch-1.0.zip", many.getvalue(), max_members=20)


def zipfile_writer(target):
    import zipfile

    return zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED)


def test_bombs_are_checked_in_little_memory(tmp_path):
    """Peak memory of a process that checks a 3 M-member tar bomb, a deflate bomb and a page of 1.5 M
    anchors stays under 300 MB (the peak resident size of a fresh interpreter, imports included)."""
    bomb = tmp_path / "bomb.tar.gz"
    bomb.write_bytes(tar_header_bomb(3_000_000))
    deflate = tmp_path / "bomb.whl"
    import zipfile

    with zipfile.ZipFile(deflate, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mm_b-1.0.dist-info/METADATA", b"\0" * (200 * 1024 * 1024))
    page = tmp_path / "page.html"
    page.write_bytes(b'<a href="mm_p-1.0.tar.gz">mm_p-1.0.tar.gz</a>\n' * 1_500_000)
    script = textwrap.dedent(
        f"""
        import resource, sys
        from pathlib import Path
        from sync.engine.archive import BadArchive, archive_check
        from sync.engine.index import IndexFormatError, parse_project
        for path, name in (({str(bomb)!r}, "mm_bomb-1.0.tar.gz"), ({str(deflate)!r}, "mm_b-1.0-py3-none-any.whl")):
            try:
                archive_check(Path(path), name, max_unpacked_bytes=100 * 1024 * 1024)
            except BadArchive as error:
                print("refused", error)
        try:
            parse_project(Path({str(page)!r}).read_bytes(), content_type="text/html",
                          base_url="http://upstream.example/simple/mm-p/", allowed_schemes=("http",))
        except IndexFormatError as error:
            print("refused", error)
        # VmHWM: the peak of this program (ru_maxrss may carry the forking parent's over exec).
        peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
        print("maxrss_kb", peak[0].split()[1] if peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    lines = result.stdout.splitlines()
    assert sum(line.startswith("refused") for line in lines) == 3, result.stdout + result.stderr
    maxrss_mb = int(lines[-1].split()[1]) / 1024
    assert maxrss_mb < 300, lines


def test_zlib_error_class_is_covered(tmp_path):
    """A raw deflate error surfaces as BadArchive (the check must not let zlib.error escape)."""
    assert issubclass(zlib.error, Exception)
    damaged = zip_damage(build_package(WHEEL), ".dist-info/METADATA", "deflate")
    with pytest.raises(BadArchive):
        check(tmp_path, WHEEL.filename, damaged)
