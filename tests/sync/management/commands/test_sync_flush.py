"""kill -9 between a group's writes and its flush: nothing of the group was recorded as stored, and the
next run, after what a power loss could have done to the unflushed blobs, stores every file whole."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from sync.sample_packages import SamplePackage
from tests.sync.management.commands.test_sync import REPO, manage

pytestmark = pytest.mark.slow

# Runs `manage.py sync` with the group flush replaced by a marker and a long sleep: the kill lands
# after the group's blobs were written and renamed into the store, before they were flushed.
HUNG_FLUSH = textwrap.dedent(
    """
    import os, sys, time
    sys.path.insert(0, {repo!r})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mirrormanager.settings")
    import django
    django.setup()
    from sync.services.syncing import downloading

    def hung(path):
        open({marker!r}, "w").close()
        time.sleep(60)

    downloading.sync_filesystem = hung
    from django.core.management import call_command
    call_command("sync")
    """
)


def test_kill_between_the_writes_and_the_flush_then_resume(fake_upstream, tmp_path):
    fakes = [fake_upstream.add(SamplePackage(f"mm-flush{n}", "1.0", payload_bytes=40_000)) for n in range(4)]
    db = tmp_path / "db.sqlite3"
    mirror = tmp_path / "mirror"
    marker = tmp_path / "flushing"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "MIRROR_ROOT": str(mirror),
        "VAR_DIR": str(tmp_path),
        "SYNC_DOWNLOAD_WORKERS": "2",
        "LOG_LEVEL": "WARNING",
    }
    assert manage(env, "migrate", "-v0").returncode == 0
    assert manage(env, "upstream_add", "fake", fake_upstream.url).returncode == 0
    script = HUNG_FLUSH.format(repo=str(REPO), marker=str(marker))
    process = subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the sync never reached its flush"
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)

    blobs = [mirror / "store" / f.sha256()[:2] / f.sha256()[2:4] / f.sha256() for f in fakes]
    written = [blob for blob in blobs if blob.exists()]
    assert written, "the group's blobs were written before the flush"
    with sqlite3.connect(db) as connection:
        stored = connection.execute("SELECT count(*) FROM sync_file WHERE state = 'stored'").fetchone()[0]
    assert stored == 0, "a blob was recorded as stored before its flush"
    # What a power loss may leave of unflushed bytes: a torn blob under its final name.
    for blob in written:
        blob.write_bytes(blob.read_bytes()[: blob.stat().st_size // 2])

    fake_upstream.hits.clear()
    result = manage(env, "sync")

    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT filename, state, sha256 FROM sync_file").fetchall()
    assert {state for _, state, _ in rows} == {"stored"} and len(rows) == len(fakes)
    for _, _, sha256 in rows:
        blob = mirror / "store" / sha256[:2] / sha256[2:4] / sha256
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha256
    for fake in fakes:  # the torn ones were fetched again (re-hashed, not trusted)
        assert fake_upstream.hits[fake.path] == 1
