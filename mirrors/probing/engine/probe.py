"""One probe of one mirror URL for one collection: fetch repomd.json, place it in the history, sample files.

Classification, in this order: broken (no usable repomd.json: unreachable, TLS, bad status, too big,
unparsable, a hash the origin never published), then from the samples corrupt (wrong bytes) or
incomplete (missing), else current or behind by k revisions and s seconds (RevisionBook.lag).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import random
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from core.net import guard
from core.net.guard import FetchError
from mirrors.models import ProbeState
from mirrors.probing.engine.rsync import RSYNC_PORT, RsyncTransport
from mirrors.probing.engine.sampling import PrimaryUnavailable, SamplePlanner
from mirrors.probing.engine.transport import HttpTransport, Transport
from mirrors.probing.engine.types import (
    ProbeLimits,
    ProbeOutcome,
    ProbeTarget,
    RevisionBook,
    SampleCheck,
    SampleFile,
)

REPOMD = "repodata/repomd.json"
_PORTS = {"http": 80, "https": 443, "rsync": RSYNC_PORT}


def families_of(url: str) -> list[int]:
    """The address families to probe a URL over: both where its name resolves to both (FetchError if none)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        return [ipaddress.ip_address(host).version]
    except ValueError:
        pass
    addresses = guard.resolve(host, parts.port or _PORTS.get(parts.scheme, 443))
    return sorted({ipaddress.ip_address(address.split("%", 1)[0]).version for address in addresses})


def transport_for(url: str, *, family: int, limits: ProbeLimits, deadline: float) -> Transport:
    if urlsplit(url).scheme == "rsync":
        return RsyncTransport(url, family=family, limits=limits, deadline=deadline)
    return HttpTransport(url, family=family, limits=limits, deadline=deadline)


class Prober:
    """Probes URLs against one run's revision books and sample planner; safe to share between threads."""

    def __init__(
        self,
        *,
        limits: ProbeLimits,
        planner: SamplePlanner,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.limits = limits
        self.planner = planner
        self.now = now
        self.rng = rng or random.Random()  # noqa: S311 - sampling, not security

    def probe(self, target: ProbeTarget, book: RevisionBook) -> list[ProbeOutcome]:
        """One outcome per address family the URL's name resolves to."""
        started = time.monotonic()
        try:
            families = families_of(target.url)
        except FetchError as error:
            return [ProbeOutcome(0, ProbeState.BROKEN, error.reason, duration_ms=_ms(started))]
        return [self.probe_family(target, book, family) for family in families]

    def probe_family(self, target: ProbeTarget, book: RevisionBook, family: int) -> ProbeOutcome:
        started = time.monotonic()
        transport = transport_for(
            target.url, family=family, limits=self.limits, deadline=started + self.limits.per_family_seconds
        )
        outcome = self._classify(transport, target, book, family)
        return _with_duration(outcome, started)

    def _classify(self, transport: Transport, target: ProbeTarget, book: RevisionBook, family: int) -> ProbeOutcome:
        broken = ProbeState.BROKEN
        try:
            got = transport.get(REPOMD, max_bytes=self.limits.max_bytes)
        except FetchError as error:
            return ProbeOutcome(family, broken, f"{REPOMD}: {error.reason}")
        if got.status != 200:
            rsync = urlsplit(target.url).scheme == "rsync"
            said = "is not on the mirror" if rsync else f"answered HTTP {got.status}"
            return ProbeOutcome(family, broken, f"{REPOMD} {said}")
        sha256 = hashlib.sha256(got.body).hexdigest()
        try:
            repomd = json.loads(got.body)
            if not isinstance(repomd, dict):
                raise ValueError("not an object")
        except ValueError:
            return ProbeOutcome(family, broken, f"{REPOMD} is not valid JSON", repomd_sha256=sha256)
        revision = book.find(sha256)
        if revision is None:
            said = repomd.get("revision")
            return ProbeOutcome(
                family,
                broken,
                f"{REPOMD} (sha256 {sha256[:12]}…, says revision {said}) is no revision the origin published "
                f"of {book.collection}",
                repomd_sha256=sha256,
            )
        lag = book.lag(revision, self.now())
        known = {
            "repomd_sha256": sha256,
            "revision": revision.number,
            "revisions_behind": lag.revisions,
            "lag_seconds": lag.seconds,
        }
        checks, problem = self._sample(transport, target, repomd)
        if problem is not None:
            return ProbeOutcome(family, problem.state, problem.detail, samples=checks, **known)
        if lag.revisions == 0:
            return ProbeOutcome(family, ProbeState.CURRENT, "", samples=checks, **known)
        plural = "s" if lag.revisions != 1 else ""
        reason = f"revision {revision.number}, {lag.revisions} revision{plural} behind"
        return ProbeOutcome(family, ProbeState.BEHIND, reason, samples=checks, **known)

    def _sample(
        self, transport: Transport, target: ProbeTarget, repomd: dict
    ) -> tuple[tuple[SampleCheck, ...], SampleCheck | None]:
        """Check the sampled files; the worst problem first (corrupt, then broken, then incomplete)."""
        if self.limits.sample_files <= 0:
            return (), None

        def fetch_primary(location: str, max_bytes: int) -> bytes | None:
            got = transport.get(location, max_bytes=max_bytes)
            return got.body if got.status == 200 else None

        try:
            candidates = self.planner.candidates(target.collection, repomd, fetch_primary)
        except PrimaryUnavailable as error:
            state = ProbeState.CORRUPT if error.corrupt else ProbeState.INCOMPLETE
            return (), SampleCheck("", False, state, f"primary data: {error}")
        except FetchError as error:
            return (), SampleCheck("", False, ProbeState.BROKEN, f"primary data: {error.reason}")
        checks = tuple(self._check(transport, file) for file in candidates.pick(self.limits.sample_files, self.rng))
        order = {ProbeState.CORRUPT: 0, ProbeState.BROKEN: 1, ProbeState.INCOMPLETE: 2}
        problems = sorted((check for check in checks if not check.ok), key=lambda check: order[check.state])
        return checks, (problems[0] if problems else None)

    def _check(self, transport: Transport, file: SampleFile) -> SampleCheck:
        """One sampled file; reasons name the file first, then where it is (the path is long)."""
        named = f"{PurePosixPath(file.location).name} ({file.location})"
        try:
            digest = transport.digest(file.location, max_bytes=file.size)
        except FetchError as error:
            if "more than" in error.reason:
                return SampleCheck(
                    file.location, False, ProbeState.CORRUPT, f"{named} is longer than {file.size} bytes"
                )
            return SampleCheck(file.location, False, ProbeState.BROKEN, f"{named}: {error.reason}")
        if digest.missing:
            return SampleCheck(file.location, False, ProbeState.INCOMPLETE, f"{named} is missing")
        if digest.status != 200:
            return SampleCheck(file.location, False, ProbeState.BROKEN, f"{named} answered HTTP {digest.status}")
        if digest.size != file.size or digest.sha256 != file.sha256:
            return SampleCheck(
                file.location,
                False,
                ProbeState.CORRUPT,
                f"{PurePosixPath(file.location).name} has the wrong bytes ({digest.size} bytes, sha256 "
                f"{digest.sha256[:12]}…; expected {file.size} bytes, sha256 {file.sha256[:12]}…) at {file.location}",
            )
        return SampleCheck(file.location, True, ProbeState.CURRENT)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _with_duration(outcome: ProbeOutcome, started: float) -> ProbeOutcome:
    return replace(outcome, duration_ms=_ms(started))
