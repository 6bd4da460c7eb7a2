"""The progress display (sync.progress): a bar on a terminal, lines elsewhere."""

from __future__ import annotations

import io

import pytest

from sync.progress import LogProgress, TerminalProgress, progress_for

pytestmark = pytest.mark.django_db


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
