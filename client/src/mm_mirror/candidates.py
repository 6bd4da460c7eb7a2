"""Is a mirror current? Its repomd.json must hash to a revision the origin's list allows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from mm_mirror import httpget
from mm_mirror.mirrorlist import Mirror, Mirrorlist

REPOMD_MAX = 1 << 20


@dataclass(frozen=True)
class Probe:
    """What one fetch of a mirror's repomd.json showed."""

    mirror: Mirror
    ok: bool
    current: bool  # the origin's current revision (ok and not current: an allowed recent one)
    latency: float  # seconds for the whole answer
    reason: str  # why not ok: connection refused, time-out, HTTP 500, stale: …
    revision: int | None = None
    sha256: str = ""

    @property
    def state(self) -> str:
        if not self.ok:
            return "unusable"
        return "current" if self.current else "recent"


def _revision(body: bytes) -> int | None:
    try:
        return int(json.loads(body)["revision"])
    except (ValueError, KeyError, TypeError):
        return None


def probe(mirror: Mirror, mirrorlist: Mirrorlist, *, timeout: float) -> Probe:
    """Fetch `<base>repodata/repomd.json` (connect and read within `timeout`) and judge it."""
    try:
        response = httpget.request(
            mirror.url + "repodata/repomd.json",
            headers={"Cache-Control": "no-cache", "Accept-Encoding": "identity"},
            timeout=timeout,
            max_body=REPOMD_MAX,
        )
    except httpget.FetchError as error:
        return Probe(mirror, False, False, float("inf"), str(error))
    if response.status != 200:
        return Probe(mirror, False, False, response.seconds, f"HTTP {response.status} for repodata/repomd.json")
    digest = hashlib.sha256(response.body).hexdigest()
    revision = _revision(response.body)
    if digest == mirrorlist.repomd_sha256:
        return Probe(mirror, True, True, response.seconds, "", revision, digest)
    if digest in mirrorlist.recent_repomd_sha256:
        return Probe(mirror, True, False, response.seconds, "", revision, digest)
    shown = f"revision {revision}" if revision is not None else "an unparsable manifest"
    reason = f"stale: repomd.json is {shown}, not one the origin allows (current: {mirrorlist.revision})"
    return Probe(mirror, False, False, response.seconds, reason, revision, digest)


def probe_all(mirrors: Sequence[Mirror], mirrorlist: Mirrorlist, *, timeout: float, parallel: int) -> list[Probe]:
    """Probe mirrors at once (in list order in the answer)."""
    if not mirrors:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(mirrors)))) as pool:
        return list(pool.map(lambda mirror: probe(mirror, mirrorlist, timeout=timeout), mirrors))


def best(probes: Sequence[Probe]) -> Probe | None:
    """The fastest mirror of the current revision; the fastest of an allowed recent one when none is."""
    usable = [p for p in probes if p.ok]
    return min(usable, key=lambda p: (not p.current, p.latency), default=None)
