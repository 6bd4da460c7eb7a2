"""make run's supervisor: its one-off shell command prints nothing of its own."""

from __future__ import annotations

import os
import subprocess
import sys

from mirrormanager.devserver import QUIET_SHELL, ROOT, _wait_for_port


def test_the_quiet_shell_prints_only_what_it_is_told(tmp_path):
    env = {**os.environ, "VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", *QUIET_SHELL, "print('ok')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout == "ok\n" and "imported" not in done.stderr


def test_waiting_for_a_port_that_nobody_serves_ends():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert _wait_for_port("127.0.0.1", port, timeout=0.3) is False
