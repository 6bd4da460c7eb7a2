"""verify finds a flipped bit, a truncation and a deletion; --repair mends them; collect is safe."""

from __future__ import annotations

import io
import os
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction

from sync.blobstore import StoreBusy, blob_path, store_lock, store_tmp_dir
from sync.models import File, Project, StoreRun
from sync.sample_packages import SamplePackage
from sync.services import catalogue_next_serial, store_collect, store_verify, upstream_sync
from sync.tasks import verify_task
from tests.sync.conftest import assert_store_sound

pytestmark = pytest.mark.django_db

PACKAGES = [SamplePackage(f"mm-v{number}", "1.0", payload_bytes=4096) for number in range(4)]


@pytest.fixture
def synced(fake_upstream, upstream_row, mirror_root):
    for package in PACKAGES:
        fake_upstream.add(package)
    assert upstream_sync(upstream=upstream_row).outcome == StoreRun.Outcome.OK
    return {package.filename: File.objects.get(filename=package.filename) for package in PACKAGES}


def damage(rows: dict[str, File]) -> tuple[File, File, File]:
    """Flip a bit in one blob, truncate another, delete a third (the fourth stays sound)."""
    flipped, truncated, deleted = (rows[package.filename] for package in PACKAGES[:3])
    path = blob_path(flipped.sha256)
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even with its mtime put back
    path = blob_path(truncated.sha256)
    path.write_bytes(path.read_bytes()[:100])
    blob_path(deleted.sha256).unlink()
    return flipped, truncated, deleted


def test_verify_finds_and_repair_mends_all_three(synced, mirror_root):
    flipped, truncated, deleted = damage(synced)

    run = store_verify()
    assert run.outcome == StoreRun.Outcome.PARTIAL
    reasons = {failure["filename"]: failure["reason"] for failure in run.failures}
    assert set(reasons) == {flipped.filename, truncated.filename, deleted.filename}
    assert "corrupt" in reasons[flipped.filename]
    assert "truncated" in reasons[truncated.filename]
    assert "missing" in reasons[deleted.filename]
    # Damage not repaired takes the files out of `stored`: the invariant holds.
    assert set(File.objects.exclude(state=File.State.STORED).values_list("filename", flat=True)) == set(reasons)

    # The files are back on the list to fetch; repair does it now.
    File.objects.filter(filename__in=reasons).update(state=File.State.STORED)
    repaired = store_verify(repair=True)
    assert repaired.outcome == StoreRun.Outcome.OK, repaired.failures
    assert repaired.files_repaired == 3
    assert File.objects.filter(state=File.State.STORED).count() == 4
    assert_store_sound(mirror_root)
    assert store_verify().outcome == StoreRun.Outcome.OK


def test_unrepaired_damage_is_fetched_again_by_the_next_sync(synced, upstream_row, mirror_root):
    damage(synced)
    assert store_verify().outcome == StoreRun.Outcome.PARTIAL
    run = upstream_sync(upstream=upstream_row)
    assert run.outcome == StoreRun.Outcome.OK and run.files_downloaded == 3
    assert_store_sound(mirror_root)


def test_repair_that_cannot_fetch_reports_partial(synced, fake_upstream, mirror_root):
    flipped, _truncated, _deleted = damage(synced)
    fake_upstream.file(flipped.filename).always = "404"
    run = store_verify(repair=True)
    assert run.outcome == StoreRun.Outcome.PARTIAL
    assert run.files_repaired == 2
    assert [failure["filename"] for failure in run.failures] == [flipped.filename]
    assert "repair failed" in run.failures[0]["reason"]
    assert File.objects.get(filename=flipped.filename).state == File.State.PENDING


def test_quick_mode_hashes_only_what_changed(synced):
    first = store_verify()
    assert first.files_checked == 4
    assert store_verify(quick=True).files_checked == 0
    flipped, truncated, deleted = damage(synced)
    quick = store_verify(quick=True)
    # A bit flipped in place with its mtime restored is for the full pass to find.
    assert {failure["filename"] for failure in quick.failures} == {truncated.filename, deleted.filename}
    full = store_verify()
    assert {failure["filename"] for failure in full.failures} == {flipped.filename}


def test_verify_command_exit_codes(synced):
    out = io.StringIO()
    call_command("verify", stdout=out)
    assert "0 damaged, 0 repaired" in out.getvalue()
    damage(synced)
    with pytest.raises(CommandError, match="--repair"):
        call_command("verify", "--quick", stdout=io.StringIO())
    File.objects.update(state=File.State.STORED)
    out = io.StringIO()
    call_command("verify", "--repair", stdout=out)
    assert "3 repaired" in out.getvalue()


def test_collect_keeps_referenced_linked_and_young_blobs(synced, mirror_root):
    orphan = blob_path("ab" * 32)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"orphan")
    young = blob_path("cd" * 32)
    young.parent.mkdir(parents=True, exist_ok=True)
    young.write_bytes(b"young")
    linked = blob_path("ef" * 32)
    linked.parent.mkdir(parents=True, exist_ok=True)
    linked.write_bytes(b"published")
    published = mirror_root / "pub" / "full" / "packages" / "x.whl"
    published.parent.mkdir(parents=True)
    os.link(linked, published)
    old = time.time() - 7200
    for path in (orphan, linked):
        os.utime(path, (old, old))
    stale_tmp = store_tmp_dir() / "1-abc.part"
    stale_tmp.write_bytes(b"partial")

    run = store_collect(min_age_seconds=3600)

    assert run.outcome == StoreRun.Outcome.OK
    assert run.files_removed == 1
    assert not orphan.exists() and young.exists() and linked.exists() and not stale_tmp.exists()
    for row in synced.values():
        assert blob_path(row.sha256).exists()
    out = io.StringIO()
    call_command("collect", "--min-age", "0", stdout=out)
    assert not young.exists()
    assert "removed 1 unreferenced" in out.getvalue()


def test_removed_project_blobs_are_collected(synced, fake_upstream, upstream_row, mirror_root):
    victim = synced[PACKAGES[0].filename]
    del fake_upstream.projects["mm-v0"]
    upstream_sync(upstream=upstream_row)
    assert Project.objects.get(normalized_name="mm-v0").removed
    store_collect(min_age_seconds=0)
    assert not blob_path(victim.sha256).exists()
    assert_store_sound(mirror_root)


def test_corrupt_blob_of_a_file_without_index_hash_is_replaced_by_the_next_sync(
    fake_upstream, upstream_row, mirror_root
):
    fake_upstream.add(PACKAGES[0], listed_sha256=None)
    assert upstream_sync(upstream=upstream_row).outcome == StoreRun.Outcome.OK
    row = File.objects.get()
    path = blob_path(row.sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    assert store_verify().outcome == StoreRun.Outcome.PARTIAL
    assert File.objects.get().state == File.State.PENDING

    run = upstream_sync(upstream=upstream_row)
    assert run.outcome == StoreRun.Outcome.OK and run.files_downloaded == 1
    assert_store_sound(mirror_root)
    assert store_verify().outcome == StoreRun.Outcome.OK


@pytest.mark.parametrize("kind", [StoreRun.Kind.VERIFY, StoreRun.Kind.COLLECT, StoreRun.Kind.SYNC])
def test_stale_running_runs_are_marked_interrupted_by_the_next_run_of_their_kind(kind, fake_upstream, upstream_row):
    stale = StoreRun.objects.create(kind=kind, upstream=upstream_row if kind == StoreRun.Kind.SYNC else None)
    other_kind = StoreRun.objects.create(
        kind=StoreRun.Kind.SYNC if kind != StoreRun.Kind.SYNC else StoreRun.Kind.VERIFY
    )
    {
        StoreRun.Kind.VERIFY: store_verify,
        StoreRun.Kind.COLLECT: store_collect,
        StoreRun.Kind.SYNC: lambda: upstream_sync(upstream=upstream_row),
    }[kind]()
    stale.refresh_from_db()
    assert stale.outcome == StoreRun.Outcome.FAILED and "interrupted" in stale.message
    assert stale.finished_at is not None
    other_kind.refresh_from_db()
    assert other_kind.outcome == StoreRun.Outcome.RUNNING


def test_verify_while_another_verify_runs_is_skipped(synced):
    with store_lock(name="verify"):
        with pytest.raises(StoreBusy, match="another verify"):
            store_verify()
        out = io.StringIO()
        call_command("verify", stdout=out)
        assert "another verify" in out.getvalue()
        assert verify_task() == "skipped"
    assert not StoreRun.objects.filter(kind=StoreRun.Kind.VERIFY).exists()


@pytest.mark.django_db(transaction=True)
def test_verify_and_a_sync_writer_take_locks_in_the_same_order(synced, mirror_root):
    """A sync writer holds the catalogue serial, then updates a file row; verify must not deadlock with it."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite locks the whole database)")
    damage(synced)
    sound = synced[PACKAGES[3].filename]
    holding, errors = threading.Event(), []

    def sync_writer() -> None:
        try:
            with transaction.atomic():
                catalogue_next_serial()
                holding.set()
                # Until verify waits for a lock (the serial row), bounded.
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and not _someone_waits_for_a_lock():
                    time.sleep(0.05)
                File.objects.filter(id=sound.id).update(attempts=7)
        except Exception as error:  # noqa: BLE001 - reported to the test thread
            errors.append(error)
        finally:
            connections.close_all()

    writer = threading.Thread(target=sync_writer)
    writer.start()
    assert holding.wait(10)
    try:
        run = store_verify()
    finally:
        writer.join(30)
    assert errors == []
    assert run.outcome == StoreRun.Outcome.PARTIAL and run.files_failed == 3
    assert File.objects.get(id=sound.id).attempts == 7


def _someone_waits_for_a_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0
