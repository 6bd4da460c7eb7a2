"""How a probe reads a mirror: http(s) through the request-forgery guard, or rsync (engine.rsync).

A transport reads paths relative to the URL of the collection's tree, over one address family, under
one overall deadline. Errors are core.net.guard.FetchError with a message a person understands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from core.net.guard import guarded_fetch, guarded_sha256
from mirrors.probing.engine.types import ProbeLimits


@dataclass(frozen=True)
class Got:
    """A small body read whole (repomd.json, a primary), or the status that said it is not there."""

    status: int
    body: bytes = b""

    @property
    def missing(self) -> bool:
        return self.status in (404, 410)


@dataclass(frozen=True)
class Digest:
    status: int
    sha256: str = ""
    size: int = 0

    @property
    def missing(self) -> bool:
        return self.status in (404, 410)


class Transport(Protocol):
    def get(self, path: str, *, max_bytes: int) -> Got: ...

    def digest(self, path: str, *, max_bytes: int) -> Digest: ...


class HttpTransport:
    """http(s): every request through the guard, restricted to one address family."""

    def __init__(self, base_url: str, *, family: int, limits: ProbeLimits, deadline: float) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.family = family
        self.limits = limits
        self.deadline = deadline

    def _options(self, max_bytes: int) -> dict:
        return {
            "allow_private": self.limits.allow_private,
            "connect_timeout": self.limits.connect_timeout,
            "read_timeout": self.limits.read_timeout,
            "max_bytes": max_bytes,
            "family": self.family,
            "deadline": self.deadline,
            "ca_certs": self.limits.ca_certs,
        }

    def get(self, path: str, *, max_bytes: int) -> Got:
        fetched = guarded_fetch(self.base_url + quote(path), **self._options(max_bytes))
        return Got(fetched.status, fetched.body if 200 <= fetched.status < 300 else b"")

    def digest(self, path: str, *, max_bytes: int) -> Digest:
        hashed = guarded_sha256(self.base_url + quote(path), **self._options(max_bytes))
        return Digest(hashed.status, hashed.sha256, hashed.size)
