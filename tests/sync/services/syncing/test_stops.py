"""A run that must stop (disk full, below the free-space reserve, past its deadline) stops cleanly: what it
stored is recorded, the command exits non-zero with a clear message, and the next run continues. A run
stuck past its deadline shows in /healthz, in the admin and in the exit code of the syncs it blocks."""

from __future__ import annotations

import errno
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from sync.blobstore import store_lock
from sync.engine import download
from sync.models import File, StoreRun
from sync.sample_packages import SamplePackage, build_package
from sync.services import upstream_add, upstream_sync
from sync.tasks import sync_all_task
from tests.sync.conftest import assert_store_sound
from tests.sync.hostile import HostileUpstream, body_drip

pytestmark = pytest.mark.django_db

PACKAGES = [SamplePackage(f"mm-p{index}", "1.0") for index in range(6)]


def stored() -> int:
    return File.objects.filter(state=File.State.STORED).count()


def test_a_full_disk_stops_the_run_and_the_next_run_continues(fake_upstream, upstream_row, mirror_root, monkeypatch):
    for package in PACKAGES:
        fake_upstream.add(package)
    real_store_blob = download.store_blob
    calls = {"n": 0}

    def filling_store_blob(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_store_blob(*args, **kwargs)

    monkeypatch.setattr(download, "store_blob", filling_store_blob)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("sync", stdout=out)
    run = StoreRun.objects.get()
    assert run.outcome == StoreRun.Outcome.FAILED
    assert "file system is full" in run.message and "the sync stops here" in out.getvalue()
    assert "internal error" not in run.message
    assert stored() == 2 == run.files_downloaded  # what was stored is recorded as stored
    assert not File.objects.filter(state=File.State.FAILED).exists()  # the rest waits, it is not failed
    assert_store_sound(mirror_root)

    monkeypatch.setattr(download, "store_blob", real_store_blob)  # space again
    again = upstream_sync(upstream=upstream_row)
    assert again.outcome == StoreRun.Outcome.OK, again.failures
    assert stored() == len(PACKAGES)


def test_the_free_space_reserve_is_checked_before_each_download(fake_upstream, upstream_row, settings, mirror_root):
    for package in PACKAGES[:3]:
        fake_upstream.add(package)
    settings.SYNC_MIN_FREE_BYTES = 2**62
    run = upstream_sync(upstream=upstream_row)
    assert run.outcome == StoreRun.Outcome.FAILED
    assert "less than SYNC_MIN_FREE_BYTES" in run.message
    assert stored() == 0 and not any(path.suffix == ".part" for path in mirror_root.rglob("*"))
    assert sum(count for path, count in fake_upstream.hits.items() if path.startswith("/files/")) == 0
    settings.SYNC_MIN_FREE_BYTES = 0
    assert upstream_sync(upstream=upstream_row).outcome == StoreRun.Outcome.OK
    assert stored() == 3


def test_a_run_stops_at_its_deadline_and_the_next_run_completes(settings, mirror_root):
    hostile = HostileUpstream()
    try:
        good = SamplePackage("mm-good", "1.0")
        hostile.project("mm-good", [hostile.file(good.filename, build_package(good))])
        hostile.project("mm-drip")
        hostile.routes["/simple/mm-drip/"] = body_drip(hostile)
        settings.SYNC_RUN_DEADLINE = 2
        upstream = upstream_add(name="hostile", url=hostile.url)
        out = io.StringIO()
        with pytest.raises(CommandError):
            call_command("sync", stdout=out)
        run = StoreRun.objects.get()
        assert run.outcome == StoreRun.Outcome.FAILED
        assert "passed its deadline (SYNC_RUN_DEADLINE=2 s)" in run.message
        assert "the next run continues" in out.getvalue()

        hostile.project("mm-drip", [])
        settings.SYNC_RUN_DEADLINE = 3600
        again = upstream_sync(upstream=upstream)
        assert again.outcome == StoreRun.Outcome.OK, again.failures
        assert File.objects.get(filename=good.filename).state == File.State.STORED
    finally:
        hostile.close()


def stuck_run(upstream_row, hours: float) -> StoreRun:
    run = StoreRun.objects.create(upstream=upstream_row, kind=StoreRun.Kind.SYNC)
    StoreRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=hours))
    run.refresh_from_db()
    return run


def test_a_sync_past_its_deadline_is_visible(upstream_row, settings, client, admin_client):
    settings.SYNC_RUN_DEADLINE = 3600
    fresh = stuck_run(upstream_row, 0.5)
    assert client.get("/healthz").json()["checks"]["sync"]["ok"] is True
    stuck = stuck_run(upstream_row, 2)

    health = client.get("/healthz")
    assert health.status_code == 503
    [reason] = [line for line in health.json()["reasons"] if line.startswith("sync:")]
    assert f"sync run {stuck.pk} of fake" in reason and "past SYNC_RUN_DEADLINE=3600 s" in reason

    listing = admin_client.get("/admin/sync/storerun/").content.decode()
    assert listing.count("PAST ITS DEADLINE") == 1
    assert "PAST ITS DEADLINE" not in admin_client.get(f"/admin/sync/storerun/{fresh.pk}/change/").content.decode()

    # The syncs it blocks no longer say all is well.
    with store_lock():
        with pytest.raises(CommandError, match="past SYNC_RUN_DEADLINE"):
            call_command("sync", stdout=io.StringIO())
        with pytest.raises(RuntimeError, match="past SYNC_RUN_DEADLINE"):
            sync_all_task()
