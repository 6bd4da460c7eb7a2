"""Run the web app (gunicorn) and a queue worker (qcluster) in the foreground; Ctrl-C stops both.

`make run` uses this. Each child runs in its own session so that the terminal's Ctrl-C reaches only this
supervisor: qcluster hangs for ever when SIGTERM reaches its whole process group, so it is signalled on its
main process only, given a grace period, then killed with its workers.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STOP_GRACE_SECONDS = 15
READY_WAIT_SECONDS = 20
# `shell -c` without its "N objects imported automatically" line (Django 5.2 imports the models by default).
QUIET_SHELL = ["shell", "--no-imports", "--verbosity", "0", "-c"]


def _wait_for_port(host: str, port: int, timeout: float = READY_WAIT_SECONDS) -> bool:
    """True once something accepts connections on host:port (the web app), False after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _start(name: str, argv: list[str]) -> subprocess.Popen:
    print(f"starting {name}: {' '.join(argv)}", flush=True)
    return subprocess.Popen(argv, cwd=ROOT, start_new_session=True)


def stop_child(name: str, process: subprocess.Popen, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM the main process only, wait, then SIGKILL it and whatever it left in its session."""
    if process.poll() is not None:
        return
    print(f"stopping {name} (pid {process.pid})", flush=True)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        print(f"{name} did not stop within {grace_seconds}s: killing it", flush=True)
        process.kill()
        process.wait(timeout=5)
    # Whatever the main process left behind in its session (qcluster's worker processes) goes too.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args(argv)

    python = sys.executable
    base = f"http://{args.host}:{args.port}"
    os.environ.setdefault("PROBE_ALLOW_PRIVATE", "1")  # the demo mirrors are on 127.0.0.1
    # The queue's INFO lines (cluster start, every task) would bury the banner: Q_LOG_LEVEL=INFO shows them.
    os.environ.setdefault("Q_LOG_LEVEL", "WARNING")
    web = _start(
        "web",
        [
            python, "-m", "gunicorn", "mirrormanager.wsgi:application",
            "--bind", f"{args.host}:{args.port}", "--workers", str(args.web_workers),
            "--access-logfile", "-", "--graceful-timeout", "5",
        ],
    )  # fmt: skip
    worker = _start("queue worker", [python, "manage.py", "qcluster"])
    mirrors = _start("demo mirrors", [python, "-m", "mirrors.probing.demo", "serve"])
    # The scheduler's first tick comes about 30 s after the cluster starts: queue one heartbeat now so
    # that /healthz turns green as soon as the worker is up.
    subprocess.run(
        [
            python,
            "manage.py",
            *QUIET_SHELL,
            "from django_q.tasks import async_task; async_task('core.tasks.heartbeat')",
        ],
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    # Last, once the web app answers: the children's start-up lines come before it, not in the middle.
    ready = _wait_for_port(args.host, args.port)
    print(
        ("" if ready else f"\nthe web app did not answer within {READY_WAIT_SECONDS}s: see its lines above\n")
        + f"\nmirrormanager is running:\n"
        f"  site           {base}/\n"
        f"  admin          {base}/admin/\n"
        f"  health         {base}/healthz\n"
        f"  API docs       {base}/api/docs/\n"
        f"  published tree {base}/pub/full/simple/   (pip install --index-url {base}/pub/full/simple/ mm-demo-hello)\n"
        f"Press Ctrl-C to stop both.\n",
        flush=True,
    )

    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    exit_code = 0
    while not stopping:
        for name, process in (("web", web), ("queue worker", worker)):
            if process.poll() is not None:
                print(f"{name} exited with code {process.returncode}; stopping", flush=True)
                exit_code = 1
                stopping = True
        time.sleep(0.5)
    stop_child("queue worker", worker)
    stop_child("demo mirrors", mirrors)
    stop_child("web", web)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
