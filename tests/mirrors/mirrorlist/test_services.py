import pytest
from django.core.management import call_command

from mirrors.mirrorlist import runtime
from mirrors.mirrorlist.models import MirrorlistBuildFlag
from mirrors.mirrorlist.services import (
    KEEP_SNAPSHOTS,
    mirrorlist_build,
    mirrorlist_build_queued,
    mirrorlist_rebuild_request,
)
from mirrors.mirrorlist.sources import RedisSource
from mirrors.models import MirrorlistSnapshot
from mirrors.signals import probes_finished, registry_changed
from tests.conftest import REQUIRE_REDIS, need, port_open
from tests.factories import HostFactory, HostURLFactory

pytestmark = pytest.mark.django_db


def test_build_publishes_a_versioned_snapshot_and_keeps_a_few():
    HostURLFactory(host=HostFactory(approved=True), current=True)
    first = mirrorlist_build()
    second = mirrorlist_build()
    assert second.version == first.version + 1
    row = MirrorlistSnapshot.objects.get(version=second.version)
    assert row.sha256 == second.sha256
    table = runtime.holder().table()  # from the local cache the build wrote
    assert table.version == second.version and len(table.collections["full"].urls) == 1
    for _ in range(KEEP_SNAPSHOTS + 2):
        mirrorlist_build()
    assert MirrorlistSnapshot.objects.count() == KEEP_SNAPSHOTS


def test_the_command(capsys):
    call_command("mirrorlist_build")
    assert "mirrorlist snapshot v1" in capsys.readouterr().out


def test_a_burst_of_changes_queues_one_build(monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, **kw: queued.append(func))
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            registry_changed.send(sender=None)
        probes_finished.send(sender=None)
    assert queued == ["mirrors.mirrorlist.tasks.mirrorlist_build_task"]
    # The build clears the flag first: the next change queues again.
    mirrorlist_build_queued()
    assert MirrorlistBuildFlag.objects.get(pk=1).queued_at is None
    assert mirrorlist_rebuild_request() is True and len(queued) == 2


def test_the_queue_task_runs_in_sync_mode(monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    mirrorlist_rebuild_request()
    assert MirrorlistSnapshot.objects.count() == 1
    assert MirrorlistBuildFlag.objects.get(pk=1).queued_at is None


def test_redis_carries_the_snapshot(settings):
    need(port_open("127.0.0.1", 6379), "no Redis on 127.0.0.1:6379", required=REQUIRE_REDIS)
    settings.MIRRORLIST_REDIS_URL = "redis://127.0.0.1:6379/14"
    runtime.reset()
    result = mirrorlist_build()
    source = RedisSource(settings.MIRRORLIST_REDIS_URL)
    assert source.latest_version() == result.version
    assert source.fetch(result.version).sha256 == result.sha256
    source.client.flushdb()


def test_a_committed_revision_queues_a_build(monkeypatch, django_capture_on_commit_callbacks):
    from metadata.models import Collection, Revision
    from metadata.signals import revision_committed
    from tests.factories import RevisionFactory

    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, **kw: queued.append(func))
    revision = RevisionFactory(collection=Collection.objects.get(slug="full"))
    with django_capture_on_commit_callbacks(execute=True):
        revision_committed.send_robust(sender=Revision, collection=revision.collection, revision=revision)
    assert queued == ["mirrors.mirrorlist.tasks.mirrorlist_build_task"]
