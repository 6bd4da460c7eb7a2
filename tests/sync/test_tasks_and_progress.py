"""Queue tasks and the progress display."""

from __future__ import annotations

import io

import pytest

from sync.models import StoreRun
from sync.progress import LogProgress, TerminalProgress, progress_for
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


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere():
    assert isinstance(progress_for(FakeTty()), TerminalProgress)
    assert isinstance(progress_for(io.StringIO()), LogProgress)
    stream = FakeTty()
    bar = progress_for(stream)
    bar.start("download", total_files=4, total_bytes=4_000_000)
    bar.add(files=2, bytes=2_000_000)
    bar.tick(force=True)
    bar.finish()
    text = stream.getvalue()
    assert "\r" in text and "2/4 files" in text and "2.0 MB/4.0 MB" in text and "ETA" in text
