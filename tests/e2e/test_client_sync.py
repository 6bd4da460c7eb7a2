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
    command = [str(MM_MIRROR), "sync", f"{origin.root}/", str(dest), "--bwlimit=600", "--delete", "--max-rounds=8"]
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
