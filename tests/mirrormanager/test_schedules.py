"""The queue: schedules install idempotently; a real qcluster worker runs the heartbeat (ORM and Redis brokers)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django_q.models import Schedule

from core.models import WorkerHeartbeat
from core.tasks import heartbeat
from mirrormanager.devserver import stop_child
from mirrormanager.schedules import SCHEDULES, install_schedules
from tests.conftest import REQUIRE_REDIS, need, port_open
from tests.databases import test_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_schedules_install_idempotently():
    install_schedules()
    install_schedules()
    names = list(Schedule.objects.values_list("name", flat=True))
    assert sorted(names) == sorted(spec.name for spec in SCHEDULES)


@pytest.mark.django_db
def test_install_repairs_a_changed_schedule_and_keeps_foreign_ones():
    install_schedules()
    Schedule.objects.filter(name="heartbeat").update(minutes=99)
    Schedule.objects.create(name="admin-made", func="core.tasks.heartbeat")
    install_schedules()
    assert Schedule.objects.get(name="heartbeat").minutes == 1
    assert Schedule.objects.filter(name="admin-made").exists()


@pytest.mark.django_db
def test_heartbeat_task_records_a_beat(settings):
    heartbeat()
    beat = WorkerHeartbeat.objects.get(cluster=settings.Q_CLUSTER["name"])
    assert beat.pid == os.getpid()


def _run_worker_until_heartbeat(cluster: str, broker_url: str | None, tmp_path: Path) -> WorkerHeartbeat:
    """Start `manage.py qcluster`, queue the heartbeat into its broker, wait for the beat, stop the worker."""
    env = os.environ | {"DATABASE_URL": test_database_url(), "Q_CLUSTER_NAME": cluster}
    if broker_url:
        env["Q_BROKER_URL"] = broker_url
    log_path = tmp_path / "qcluster.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            # Queue through the same broker the worker reads, as any web process would.
            queue = subprocess.run(
                [sys.executable, "manage.py", "shell", "-c",
                 "from django_q.tasks import async_task; async_task('core.tasks.heartbeat')"],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert queue.returncode == 0, queue.stderr
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                beat = WorkerHeartbeat.objects.filter(cluster=cluster).first()
                if beat is not None:
                    return beat
                assert worker.poll() is None, log_path.read_text()
                time.sleep(0.5)
            pytest.fail(f"no heartbeat within 90 s; worker log:\n{log_path.read_text()}")
        finally:
            stop_child("qcluster", worker, grace_seconds=20)
    raise AssertionError("unreachable")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_heartbeat_on_orm_broker(tmp_path):
    beat = _run_worker_until_heartbeat(f"mm-test-{uuid.uuid4().hex[:8]}", None, tmp_path)
    assert beat.pid != os.getpid()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_heartbeat_on_redis_broker(tmp_path):
    need(port_open("127.0.0.1", 6379), "Redis is not running on 127.0.0.1:6379", required=REQUIRE_REDIS)
    beat = _run_worker_until_heartbeat(f"mm-test-{uuid.uuid4().hex[:8]}", "redis://127.0.0.1:6379/15", tmp_path)
    assert beat.pid != os.getpid()
