"""`mm-mirror sync` against an origin that publishes every second during a throttled copy.

The case of issue 11: with the old two-pass rsync, most copies ended with a repomd.json whose files
were missing. Here the real command (a subprocess, real rsync, --bwlimit) copies while the test
publishes a new revision every second with the server's own publisher; when it exits 0 the copy is
whole: every repodata file, every file primary lists (hashed), every file every page links to.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from mm_mirror.tree import REPOMD, check_pages, check_tree, project_pages, read_repomd

from sync.sample_packages import SamplePackage
from tests.client import conftest as client_fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
origin = client_fixtures.origin  # the fixture, shared with tests/client

MM_MIRROR = Path(sys.executable).with_name("mm-mirror")


def test_sync_is_whole_while_the_origin_publishes(origin, tmp_path):
    origin.publish(*(SamplePackage(f"bulk{i}", "1.0", payload_bytes=150_000) for i in range(16)))
    dest = tmp_path / "dest"
    command = [str(MM_MIRROR), "sync", f"{origin.root}/", str(dest), "--bwlimit=300", "--delete", "--max-rounds=8"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    published = []
    deadline = time.monotonic() + 120
    try:
        while process.poll() is None and time.monotonic() < deadline:
            n = len(published)
            # Each revision adds a file (a new project every other time) and removes a project.
            published.append(origin.publish(SamplePackage(f"fresh{n // 2}", f"1.{n}", payload_bytes=40_000)))
            if n % 3 == 0:
                origin.catalogue.remove_project(f"bulk{n // 3}")
            time.sleep(1)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, out + err
    assert len(published) >= 3, "the origin published during the copy"
    result = check_tree(dest, hashes=True)
    assert result.whole, result.gaps
    assert not check_pages(dest, project_pages(dest))
    revision = read_repomd(dest / REPOMD).revision
    assert 2 <= revision <= published[-1]
    assert f"revision {revision} whole" in out


def test_sync_from_an_rsync_daemon(origin, tmp_path):
    """The rsync:// path: a real rsync daemon on 127.0.0.1 serving the origin's pub/ as docs/publishing.md's module."""
    import os
    import shutil
    import socket

    if shutil.which("rsync") is None:
        pytest.skip("rsync is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    identity = "uid = root\n    gid = root\n" if os.geteuid() == 0 else ""
    config = tmp_path / "rsyncd.conf"
    config.write_text(
        f"pid file = {tmp_path / 'rsyncd.pid'}\nuse chroot = no\n[pub]\n    path = {origin.root.parent}\n"
        f"    read only = yes\n    {identity}"
    )
    daemon = subprocess.Popen(
        ["rsync", "--daemon", "--no-detach", "--address=127.0.0.1", f"--port={port}", f"--config={config}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        from tests.client.servers import wait_until

        def listening() -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        assert wait_until(listening), "the rsync daemon did not start"
        dest = tmp_path / "dest"
        source = f"rsync://127.0.0.1:{port}/pub/full/"
        result = subprocess.run(
            [str(MM_MIRROR), "sync", source, str(dest)], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert check_tree(dest, hashes=True).whole
        origin.catalogue.remove_project("numbers")
        origin.publish(SamplePackage("newcomer", "1.0"))
        result = subprocess.run(
            [str(MM_MIRROR), "sync", source, str(dest), "--delete"], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert check_tree(dest, hashes=True).whole and not check_pages(dest, project_pages(dest))
        assert not (dest / "simple" / "numbers").exists() and (dest / "simple" / "newcomer").is_dir()
        missing = subprocess.run([str(MM_MIRROR), "sync", f"rsync://127.0.0.1:{port}/nothing/", str(tmp_path / "x")],
                                 capture_output=True, text=True, timeout=60)  # fmt: skip
        assert missing.returncode == 4 and "rsync exited" in missing.stderr
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
