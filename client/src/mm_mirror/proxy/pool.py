"""Which mirror serves the next request: checked before first use, demoted for a while when it fails.

Rules (docs/clients.md):
- a mirror is used only once its repomd.json hashed to a revision the origin allows; the first
  `parallel` unchecked mirrors of the list are checked at once, and a request waits only until one
  of them is good, so mirrors that hang cost one check time-out, once;
- of the good mirrors, the best-ranked one of the current revision serves, else the best-ranked one
  of an allowed recent revision; a better-ranked mirror whose check ends later takes over;
- a mirror that fails (refused, time-out, 5xx, truncated body, wrong sha256, stale manifest) is
  demoted for `demote_seconds` and logged in one line; after that it is checked again before use;
- a good mirror's repomd.json is checked again every `recheck_seconds`, in the background;
- when every mirror is demoted, those demoted longer than `retry_after` seconds ago are checked again
  rather than failing every request until their time is up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from mm_mirror import candidates
from mm_mirror.mirrorlist import Mirror, Mirrorlist


@dataclass
class MirrorState:
    mirror: Mirror
    rank: int
    good_since: float | None = None  # monotonic time of the last good check; None: not checked (again) yet
    current: bool = False
    checking: bool = False
    check_started: float = 0.0
    demoted_at: float = 0.0
    demoted_until: float = 0.0
    failures: int = 0
    reason: str = ""

    @property
    def url(self) -> str:
        return self.mirror.url


class MirrorPool:
    """The mirrors of one mirrorlist and what the proxy learnt about each."""

    def __init__(
        self,
        listing: Mirrorlist,
        *,
        timeout: float,
        demote_seconds: float,
        recheck_seconds: float,
        parallel: int,
        log: Callable[[str], None],
        refresh: Callable[[], Mirrorlist | None] | None = None,
        retry_after: float = 10.0,
    ) -> None:
        self.listing = listing
        self.states = [MirrorState(mirror, rank) for rank, mirror in enumerate(listing.mirrors)]
        self.timeout = timeout
        self.demote_seconds = demote_seconds
        self.recheck_seconds = recheck_seconds
        self.parallel = max(1, parallel)
        self.retry_after = retry_after
        self.log = log
        self.refresh = refresh
        self.refreshed_at = 0.0
        self.cond = threading.Condition()

    # -- choosing -----------------------------------------------------------------------------

    def warm(self) -> None:
        """Start checking the first mirrors now, before the first request needs one."""
        with self.cond:
            self._start_checks(self._usable(set(), time.monotonic()))

    def choose(self, exclude: set[str], *, wait: float | None = None) -> MirrorState | None:
        """The mirror for the next attempt of a request (none of `exclude`); None when no mirror is left."""
        deadline = time.monotonic() + (wait if wait is not None else 2 * self.timeout + 5)
        with self.cond:
            while True:
                now = time.monotonic()
                usable = self._usable(exclude, now)
                good = [state for state in usable if state.good_since is not None]
                if good:
                    for state in good:
                        if now - state.good_since > self.recheck_seconds and not state.checking:
                            self._start_check(state)
                    return min(good, key=lambda state: (not state.current, state.rank))
                unchecked = [state for state in usable if state.good_since is None]
                if not unchecked and not self._retry_demoted(exclude, now):
                    return None
                self._start_checks(unchecked)
                if now >= deadline:
                    return None
                self.cond.wait(timeout=min(0.5, deadline - now))

    def _usable(self, exclude: set[str], now: float) -> list[MirrorState]:
        return [state for state in self.states if state.url not in exclude and state.demoted_until <= now]

    def _retry_demoted(self, exclude: set[str], now: float) -> bool:
        """Every mirror is demoted: give those demoted a while ago another check. True when any."""
        again = [s for s in self.states if s.url not in exclude and now - s.demoted_at >= self.retry_after]
        for state in again:
            state.demoted_until = 0.0
        if again:
            self.log(f"every mirror failed; checking {len(again)} of them again")
        return bool(again)

    def _start_checks(self, unchecked: list[MirrorState]) -> None:
        in_flight = sum(1 for state in self.states if state.checking)
        for state in [state for state in unchecked if not state.checking][: max(0, self.parallel - in_flight)]:
            self._start_check(state)

    def _start_check(self, state: MirrorState) -> None:
        state.checking = True
        state.check_started = time.monotonic()
        threading.Thread(target=self._check, args=(state,), daemon=True, name=f"check {state.url}").start()

    # -- checking -----------------------------------------------------------------------------

    def _check(self, state: MirrorState) -> None:
        try:
            probe = candidates.probe(state.mirror, self.listing, timeout=self.timeout)
            if not probe.ok and probe.revision is not None and probe.revision > self.listing.revision:
                probe = self._judge_after_refresh(probe)
        except Exception as error:  # noqa: BLE001 - a check must always end, or requests would wait
            probe = candidates.Probe(state.mirror, False, False, float("inf"), f"check failed: {error}")
        with self.cond:
            state.checking = False
            if probe.ok:
                state.good_since = time.monotonic()
                state.current = probe.current
                state.failures = 0
            else:
                self._demote(state, probe.reason, "checking repodata/repomd.json")
            self.cond.notify_all()

    def _judge_after_refresh(self, probe: candidates.Probe) -> candidates.Probe:
        """A mirror newer than our list: ask the origin again (at most every 30 s) before calling it stale."""
        if self.refresh is None or time.monotonic() - self.refreshed_at < 30:
            return probe
        self.refreshed_at = time.monotonic()
        listing = self.refresh()
        if listing is None:
            return probe
        self.listing = listing
        if probe.sha256 in listing.allowed:
            return candidates.Probe(
                probe.mirror,
                True,
                probe.sha256 == listing.repomd_sha256,
                probe.latency,
                "",
                probe.revision,
                probe.sha256,
            )
        return probe

    # -- failing ------------------------------------------------------------------------------

    def demote(self, state: MirrorState, reason: str, during: str) -> None:
        """A request failed on this mirror: skip it for a while (logged once, however many requests saw it)."""
        with self.cond:
            if state.demoted_until > time.monotonic():
                return
            self._demote(state, reason, during)
            self.cond.notify_all()

    def _demote(self, state: MirrorState, reason: str, during: str) -> None:
        now = time.monotonic()
        state.failures += 1
        state.good_since = None
        state.demoted_at = now
        state.demoted_until = now + self.demote_seconds
        state.reason = reason
        good = [s for s in self.states if s.good_since is not None and s.demoted_until <= now]
        following = min(good, key=lambda s: (not s.current, s.rank)).url if good else "the next mirror of the list"
        self.log(
            f"failover: {state.url} ({reason}, {during}); demoted for {self.demote_seconds:.0f} s; next: {following}"
        )

    def unanswered(self) -> list[str]:
        """One line for each mirror whose first check has not answered yet (a hanging one, when we stop early)."""
        now = time.monotonic()
        with self.cond:
            return [
                f"skipped: {state.url} (no answer to its repomd.json check after {now - state.check_started:.1f} s)"
                for state in self.states
                if state.checking and state.good_since is None
            ]

    def summary(self) -> list[str]:
        now = time.monotonic()
        lines = []
        for state in self.states:
            if state.demoted_until > now:
                status = f"demoted ({state.reason})"
            elif state.good_since is not None:
                status = "current" if state.current else "recent"
            else:
                status = "unchecked"
            lines.append(f"{state.url} {status}")
        return lines
