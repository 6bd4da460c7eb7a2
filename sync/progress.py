"""Progress of long work: a bar on a terminal, plain log lines elsewhere, nothing for tasks.

Workers add to the counters from any thread; the main thread renders with tick().
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, TextIO

from core.text import human_bytes

if TYPE_CHECKING:
    from sync.models import StoreRun

logger = logging.getLogger("sync.progress")
__all__ = ["Progress", "human_bytes", "progress_for", "run_summary", "runs_failures_describe"]


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Counters of the current phase. The base class renders nothing (queue tasks, tests)."""

    interval = 0.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.phase = ""
        self.unit = "files"
        self.total_files = 0
        self.total_bytes = 0
        self.files = 0
        self.bytes = 0
        self.started = time.monotonic()
        self._last_render = 0.0
        # The lines log() has shown, so that a closing summary does not say them again.
        self.said: list[str] = []

    def start(self, phase: str, *, total_files: int = 0, total_bytes: int = 0, unit: str = "files") -> None:
        """Begin a phase (e.g. "index", "download") with its totals (0 = unknown)."""
        self.finish()
        with self._lock:
            self.phase, self.total_files, self.total_bytes = phase, total_files, total_bytes
            self.unit = unit
            self.files = self.bytes = 0
            self.started = time.monotonic()
            self._last_render = 0.0

    def add(self, *, files: int = 0, bytes: int = 0) -> None:  # noqa: A002 - reads best at call sites
        """Count work done; safe from any thread."""
        with self._lock:
            self.files += files
            self.bytes += bytes

    def tick(self, *, force: bool = False) -> None:
        """Render if the interval has passed (main thread only)."""
        now = time.monotonic()
        if self.phase and (force or now - self._last_render >= self.interval):
            self._last_render = now
            self.render(now - self.started)

    def finish(self) -> None:
        """End the current phase (renders its last state)."""
        if self.phase:
            self.tick(force=True)
            self.end_phase()
            self.phase = ""

    def log(self, message: str) -> None:
        """A line that is not a counter: a failure, a refused file."""
        self.said.append(message)
        logger.info(message)

    def render(self, elapsed: float) -> None:
        pass

    def end_phase(self) -> None:
        pass

    def describe(self, elapsed: float) -> str:
        """files 12/887, 1.2 GB/3.8 GB, 450 MB/s, ETA 0:00:06."""
        rate = self.bytes / elapsed if elapsed > 0 else 0.0
        files = f"{self.files}/{self.total_files}" if self.total_files else f"{self.files}"
        size = human_bytes(self.bytes) + (f"/{human_bytes(self.total_bytes)}" if self.total_bytes else "")
        eta = ""
        if self.total_bytes and rate > 0:
            eta = f", ETA {_clock((self.total_bytes - self.bytes) / rate)}"
        elif self.total_files and self.files:
            eta = f", ETA {_clock(elapsed * (self.total_files - self.files) / self.files)}"
        return f"{self.phase}: {files} {self.unit}, {size}, {human_bytes(rate)}/s{eta}"


class LogProgress(Progress):
    """A log line every few seconds, for files, pipes and journals."""

    interval = 5.0

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def render(self, elapsed: float) -> None:
        self.stream.write(self.describe(elapsed) + "\n")
        self.stream.flush()

    def log(self, message: str) -> None:
        self.said.append(message)
        self.stream.write(message + "\n")
        self.stream.flush()


class TerminalProgress(Progress):
    """One bar redrawn in place on a terminal."""

    interval = 0.2
    width = 28

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def render(self, elapsed: float) -> None:
        if self.total_bytes:
            fraction = min(self.bytes / self.total_bytes, 1.0)
        elif self.total_files:
            fraction = min(self.files / self.total_files, 1.0)
        else:
            fraction = 0.0
        filled = int(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r\x1b[K[{bar}] {self.describe(elapsed)}")
        self.stream.flush()

    def end_phase(self) -> None:
        self.stream.write("\n")
        self.stream.flush()

    def log(self, message: str) -> None:
        self.said.append(message)
        self.stream.write(f"\r\x1b[K{message}\n")
        self.stream.flush()
        self._last_render = 0.0


def progress_for(stream: TextIO) -> Progress:
    """A bar on a terminal, log lines elsewhere."""
    isatty = getattr(stream, "isatty", None)
    return TerminalProgress(stream) if isatty is not None and isatty() else LogProgress(stream)


def run_summary(run: StoreRun, *, said: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The closing lines of a sync/verify/collect run, naming what failed.

    said: the lines the run's progress already showed; its message is left out when one of them ended with it.
    """
    duration = run.duration_seconds or 0.0
    rate = run.bytes_downloaded / duration / 1e6 if duration else 0.0
    title = f"{run.kind} #{run.pk}" + (f" of {run.upstream.name}" if run.upstream_id else "")
    lines = [f"{title}: {run.outcome} in {duration:.1f} s"]
    if run.kind == "sync":
        lines.append(
            f"  projects: {run.projects_checked} checked, {run.projects_changed} changed, "
            f"{run.projects_removed} removed, {run.projects_failed} failed"
        )
        lines.append(
            f"  files: {run.files_new} new, {run.files_updated} updated, {run.files_removed} removed, "
            f"{run.files_downloaded} stored, {run.files_failed} failed"
        )
        lines.append(f"  {human_bytes(run.bytes_downloaded)} in {duration:.1f} s, {rate:.1f} MB/s")
    # verify and collect: the run's message is their one summary line.
    if run.message and not any(line.endswith(run.message) for line in said):
        lines.append(f"  {run.message}")
    failures = run.failures or []
    # Failures the progress already showed as "failed <file>: <reason>" are counted, not listed again.
    unsaid = [
        failure for failure in failures if f"failed {failure.get('filename')}: {failure.get('reason')}" not in said
    ]
    if len(unsaid) < len(failures):
        lines.append(f"  {len(failures) - len(unsaid)} failures listed above")
    if unsaid:
        lines.append("  failed:")
        for failure in unsaid[:50]:
            name = " ".join(part for part in (failure.get("project"), failure.get("filename")) if part)
            lines.append(f"    {name}: {failure.get('reason')}")
        if len(unsaid) > 50:
            lines.append(f"    ... and {len(unsaid) - 50} more (see the run in the admin)")
    return lines


def runs_failures_describe(runs: list[StoreRun]) -> str:
    """One line counting the sync runs that did not complete ("" when all were ok); their summaries say why."""
    bad = [run for run in runs if run.outcome != "ok"]
    if not bad:
        return ""
    names = [
        f"{run.upstream.name if run.upstream_id else 'sync'} {run.outcome}"
        + (f" ({run.files_failed} files failed)" if run.files_failed else "")
        for run in bad
    ]
    return f"{len(bad)} of {len(runs)} syncs did not complete: {', '.join(names)} (see the summary above)"
