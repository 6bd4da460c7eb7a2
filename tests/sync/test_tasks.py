"""Queue tasks (sync.tasks): sync, verify and collect."""

from __future__ import annotations

import pytest

from sync.models import StoreRun
from sync.sample_packages import SamplePackage
from sync.tasks import collect_task, sync_all_task, verify_task

pytestmark = pytest.mark.django_db


def test_tasks_run_sync_verify_and_collect(fake_upstream, upstream_row):
    fake_upstream.add(SamplePackage("mm-task", "1.0"))
    assert sync_all_task() == {"fake": "ok"}
    assert verify_task() == "ok"
    assert verify_task(quick=True, repair=True) == "ok"
    assert collect_task() == "ok"
    assert list(StoreRun.objects.order_by("id").values_list("kind", flat=True)) == [
        "sync",
        "verify",
        "verify",
        "collect",
    ]
