"""kill -9 in the middle of `manage.py sync`: the next run fetches only what was not complete."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync.sample_packages import SamplePackage

REPO = Path(__file__).resolve().parents[4]

pytestmark = pytest.mark.slow


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_kill_9_mid_sync_then_resume(fake_upstream, tmp_path):
    fast = [fake_upstream.add(SamplePackage(f"mm-fast{n}", "1.0", payload_bytes=60_000)) for n in range(4)]
    # Smaller, so fetched last (biggest first), and slow: the kill lands while they stream.
    slow = [
        fake_upstream.add(SamplePackage(f"mm-slow{n}", "1.0", payload_bytes=30_000), always="slow") for n in range(2)
    ]
    db = tmp_path / "db.sqlite3"
    mirror = tmp_path / "mirror"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "MIRROR_ROOT": str(mirror),
        "VAR_DIR": str(tmp_path),
        "SYNC_DOWNLOAD_WORKERS": "2",
        "SYNC_READ_TIMEOUT": "20",
        "LOG_LEVEL": "WARNING",
    }
    assert manage(env, "migrate", "-v0").returncode == 0
    assert manage(env, "upstream_add", "fake", fake_upstream.url).returncode == 0

    tmp_dir = mirror / "store" / "tmp"
    fast_blobs = [mirror / "store" / f.sha256()[:2] / f.sha256()[2:4] / f.sha256() for f in fast]
    process = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "sync"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            partial = list(tmp_dir.glob("*.part")) if tmp_dir.exists() else []
            if all(blob.exists() for blob in fast_blobs) and partial:
                break
            assert process.poll() is None, "the sync ended before it could be killed"
            time.sleep(0.02)
        else:
            pytest.fail("the sync never reached the slow files")
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
    assert list(tmp_dir.glob("*.part")), "the killed run left its partial download behind"

    for fake in slow:
        fake.always = ""
    fake_upstream.hits.clear()
    result = manage(env, "sync")

    assert result.returncode == 0, result.stdout + result.stderr
    for fake in fast:
        assert fake_upstream.hits[fake.path] == 0, f"{fake.filename} was fetched again"
    for fake in slow:
        assert fake_upstream.hits[fake.path] == 1
    assert not list(tmp_dir.glob("*")), "temporary files were not cleaned up"
    with sqlite3.connect(db) as connection:
        states = dict(connection.execute("SELECT filename, state FROM sync_file").fetchall())
        runs = connection.execute("SELECT outcome, message FROM sync_storerun ORDER BY id").fetchall()
        stored = connection.execute("SELECT sha256 FROM sync_file").fetchall()
    assert set(states.values()) == {"stored"} and len(states) == 6
    assert runs[0] == ("failed", "interrupted: the process died")
    assert runs[-1][0] == "ok"
    for (sha256,) in stored:
        blob = mirror / "store" / sha256[:2] / sha256[2:4] / sha256
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha256
