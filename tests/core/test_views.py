"""/healthz: 200 when the database, the queue heartbeat and MIRROR_ROOT are fine; 503 with the reason when not."""

from __future__ import annotations

import errno
from datetime import timedelta

import pytest
from django.db.utils import OperationalError
from django.utils import timezone

from core.models import WorkerHeartbeat
from core.services import heartbeat_record

pytestmark = pytest.mark.django_db


def test_all_well(client):
    heartbeat_record()
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["reasons"] == []
    assert body["checks"]["queue"]["heartbeat_age_seconds"] < 60
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["mirror_root"]["ok"] is True


def test_no_heartbeat_yet(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "queue: no heartbeat yet" in response.json()["reasons"][0]


def test_stale_heartbeat(client, settings):
    WorkerHeartbeat.objects.create(cluster=settings.Q_CLUSTER["name"], beat_at=timezone.now() - timedelta(minutes=10))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"]["reason"].startswith("last heartbeat 600s ago")


def test_mirror_root_missing(client, settings, tmp_path):
    heartbeat_record()
    settings.MIRROR_ROOT = tmp_path / "nowhere"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["mirror_root: does not exist"]


def test_mirror_root_not_writable(client, monkeypatch):
    heartbeat_record()

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("core.selectors.tempfile.NamedTemporaryFile", read_only)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["mirror_root: not writable: Read-only file system"]


def test_database_down(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("core.selectors.connection.cursor", refuse)
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["database"]["reason"] == "unreachable: OperationalError: connection refused"
    assert body["checks"]["queue"]["reason"] == "heartbeat unknown: database unreachable"


def test_healthz_is_get_only_and_uncached(client):
    assert client.post("/healthz").status_code == 405
    assert "no-cache" in client.get("/healthz")["Cache-Control"]
