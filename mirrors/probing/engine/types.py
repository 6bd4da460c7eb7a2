"""Values that travel between the probe engine and the service layer."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime

from mirrors.models import ProbeState

FAILURES = frozenset({ProbeState.BROKEN, ProbeState.CORRUPT, ProbeState.INCOMPLETE})


@dataclass(frozen=True)
class RevisionInfo:
    """One published revision of a collection, as the origin's history records it."""

    number: int
    sha256: str
    timestamp: datetime


@dataclass(frozen=True)
class Lag:
    revisions: int
    seconds: int


@dataclass(frozen=True)
class RevisionBook:
    """A collection's revision history, oldest first: what a repomd.json hash means, and how far behind it is."""

    collection: str
    revisions: tuple[RevisionInfo, ...]
    _by_sha: dict[str, RevisionInfo] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.revisions, key=lambda revision: revision.number))
        object.__setattr__(self, "revisions", ordered)
        self._by_sha.update({revision.sha256: revision for revision in ordered})

    @property
    def current(self) -> RevisionInfo | None:
        return self.revisions[-1] if self.revisions else None

    def find(self, sha256: str) -> RevisionInfo | None:
        return self._by_sha.get(sha256)

    def lag(self, revision: RevisionInfo, now: datetime) -> Lag:
        """k = revisions published after this one; s = seconds since the first of them was published."""
        numbers = [known.number for known in self.revisions]
        after = bisect.bisect_right(numbers, revision.number)
        missing = self.revisions[after:]
        if not missing:
            return Lag(0, 0)
        return Lag(len(missing), max(0, int((now - missing[0].timestamp).total_seconds())))


@dataclass(frozen=True)
class ProbeLimits:
    """The limits every probe runs under (from the PROBE_* settings)."""

    connect_timeout: float = 10
    read_timeout: float = 30
    max_bytes: int = 1024 * 1024  # repomd.json
    sample_files: int = 3
    sample_max_bytes: int = 64 * 1024 * 1024  # each sampled file, and a primary fetched from the mirror
    allow_private: bool = False
    ca_certs: str | None = None  # extra trust for tests; None = the system's store

    @property
    def per_family_seconds(self) -> float:
        """The overall deadline of one probe over one address family (repomd, primary, samples)."""
        return self.connect_timeout + 3 * self.read_timeout


@dataclass(frozen=True)
class SampleFile:
    """A file the mirror's revision lists, with the bytes it must have."""

    location: str
    sha256: str
    size: int
    upload_time: str = ""


@dataclass(frozen=True)
class SampleCheck:
    location: str
    ok: bool
    state: str  # ProbeState of this one file: current when right, corrupt, incomplete or broken
    detail: str = ""


@dataclass(frozen=True)
class ProbeOutcome:
    """What one probe of one URL over one address family found."""

    family: int  # 4, 6, or 0 when not split (a name that did not resolve)
    state: str
    reason: str = ""
    repomd_sha256: str = ""
    revision: int | None = None
    revisions_behind: int | None = None
    lag_seconds: int | None = None
    duration_ms: int = 0
    samples: tuple[SampleCheck, ...] = ()

    @property
    def failed(self) -> bool:
        return self.state in FAILURES


@dataclass(frozen=True)
class ProbeTarget:
    """One URL to probe: its base URL (ending in /) and its collection."""

    url: str
    collection: str
