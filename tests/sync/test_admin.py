"""The catalogue's admin: "sync now" queues a real sync; the yanked column marks only yanked files; failures once."""

from __future__ import annotations

import pytest
from django_q import tasks as q_tasks

from sync.models import File, StoreRun, Upstream
from sync.sample_packages import SamplePackage
from sync.services import upstream_add, upstream_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """async_task as the admin calls it, run at once in this process (django-q2's sync mode)."""
    calls = []

    def run_now(func, *args, **kwargs):
        calls.append((func, args))
        return q_tasks.async_task(func, *args, sync=True, **kwargs)

    monkeypatch.setattr("sync.admin.async_task", run_now)
    monkeypatch.setattr("metadata.admin.async_task", run_now)
    return calls


def test_sync_now_queues_a_sync_of_the_chosen_upstreams(admin_client, fake_upstream, queued):
    fake_upstream.add(SamplePackage("mm-now", "1.0"))
    upstream = upstream_add(name="main", url=fake_upstream.url)
    answer = admin_client.post(
        "/admin/sync/upstream/", {"action": "sync_now", "_selected_action": [upstream.pk]}, follow=True
    )
    assert queued == [("sync.tasks.upstreams_sync_task", (["main"],))]
    assert "Sync of main queued (task " in answer.content.decode()
    run = StoreRun.objects.get(kind=StoreRun.Kind.SYNC)
    assert run.outcome == "ok" and File.objects.get().state == File.State.STORED
    assert Upstream.objects.get().last_synced_at is not None


def test_the_yanked_column_marks_only_yanked_files(admin_client, fake_upstream):
    fake_upstream.add(SamplePackage("mm-kept", "1.0"))
    fake_upstream.add(SamplePackage("mm-gone", "1.0"), yanked="broken build")
    upstream_sync(upstream=upstream_add(name="main", url=fake_upstream.url))
    page = admin_client.get("/admin/sync/file/").content.decode()
    assert "icon-no.svg" not in page and "icon-yes.svg" not in page
    assert page.count("yanked: broken build") == 1


def test_a_sync_run_shows_failures_once(admin_client):
    run = StoreRun.objects.create(kind=StoreRun.Kind.SYNC, outcome=StoreRun.Outcome.PARTIAL, files_failed=1)
    run.failures = [{"project": "demo", "filename": "demo-1.0.tar.gz", "reason": "HTTP 404"}]
    run.save()
    page = admin_client.get(f"/admin/sync/storerun/{run.pk}/change/").content.decode()
    assert page.count("Failures") + page.count("failures:") == 1
    assert "demo demo-1.0.tar.gz: HTTP 404" in page


def test_the_admin_is_branded(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "mirrormanager administration" in page and "Django administration" not in page
