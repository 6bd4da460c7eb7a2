"""Real processes: a qcluster worker builds the table after a burst of registry changes (one build), and a
gunicorn web process with its own local cache folder (another machine) picks up each new table through the
database, without a restart."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from mirrormanager.devserver import stop_child
from mirrors.models import MirrorlistSnapshot
from tests.databases import test_database_url
from tests.factories import CollectionFactory, HostFactory, HostURLFactory, RevisionFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
SIGNAL = "from mirrors.signals import registry_changed\nfor _ in range(5): registry_changed.send(sender=None)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _wait(predicate, seconds: float, what: str, logs: list[Path]):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"{what} within {seconds} s; logs:\n" + "\n".join(p.read_text()[-3000:] for p in logs))


def test_worker_builds_once_and_another_machine_swaps(tmp_path):
    RevisionFactory(collection=CollectionFactory(slug="full"), number=1)  # a flushed database has none
    HostURLFactory(host=HostFactory(approved=True, name="first.mirror.example.org"), current=True)
    base = os.environ | {
        "DATABASE_URL": test_database_url(),
        "MIRROR_ROOT": str(tmp_path / "mirror"),
        "Q_CLUSTER_NAME": f"mm-test-{uuid.uuid4().hex[:8]}",
        "ORIGIN_BASE_URL": "https://origin.example/",
    }
    base.pop("Q_BROKER_URL", None)
    base.pop("MIRRORLIST_REDIS_URL", None)
    worker_env = base | {"VAR_DIR": str(tmp_path / "worker-machine")}
    web_env = base | {"VAR_DIR": str(tmp_path / "web-machine"), "MIRRORLIST_REFRESH_SECONDS": "0.2"}
    port = _free_port()
    worker_log, web_log = tmp_path / "qcluster.log", tmp_path / "gunicorn.log"
    with worker_log.open("wb") as wlog, web_log.open("wb") as glog:
        worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=worker_env, stdout=wlog,
                                  stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "mirrormanager.wsgi:application", "--workers", "2",
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=ROOT, env=web_env, stdout=glog, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/api/v1/mirrorlist/full/"
            status, body = _wait(lambda: _try(url), 60, "gunicorn did not answer", [web_log])
            assert status == 503 and "not built yet" in body["detail"]
            queued = subprocess.run([sys.executable, "manage.py", "shell", "-c", SIGNAL], cwd=ROOT, env=worker_env,
                                    capture_output=True, text=True, timeout=60)  # fmt: skip
            assert queued.returncode == 0, queued.stderr
            _wait(lambda: MirrorlistSnapshot.objects.exists(), 90, "no snapshot built", [worker_log])
            time.sleep(2)  # any second build of the burst would have run by now
            assert MirrorlistSnapshot.objects.count() == 1  # five changes, one build
            first = _wait(lambda: _ok(url), 30, "the web process did not load v1", [web_log])
            assert [m["host"] for m in first["mirrors"]] == ["first.mirror.example.org", "origin"]

            HostURLFactory(host=HostFactory(approved=True, name="second.mirror.example.org"), current=True)
            queued = subprocess.run([sys.executable, "manage.py", "shell", "-c", SIGNAL], cwd=ROOT, env=worker_env,
                                    capture_output=True, text=True, timeout=60)  # fmt: skip
            assert queued.returncode == 0, queued.stderr
            second = _wait(
                lambda: (b := _ok(url)) and b["table_version"] == first["table_version"] + 1 and b, 90,
                "the web process did not swap to v2", [worker_log, web_log],
            )  # fmt: skip
            assert {m["host"] for m in second["mirrors"]} == {"first.mirror.example.org", "second.mirror.example.org",
                                                              "origin"}  # fmt: skip
            assert web.poll() is None  # the same processes: no restart
            # Both workers of the web process swapped (requests land on either).
            assert all(_ok(url)["table_version"] == second["table_version"] for _ in range(10))
        finally:
            stop_child("gunicorn", web, grace_seconds=10)
            stop_child("qcluster", worker, grace_seconds=20)


def _try(url: str):
    try:
        return _get(url)
    except OSError:
        return None


def _ok(url: str):
    answer = _try(url)
    return answer[1] if answer and answer[0] == 200 else None
