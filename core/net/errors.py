"""The errors of guarded fetches (core.net.guard re-exports them)."""

from __future__ import annotations


class FetchError(Exception):
    """A fetch that gave no usable answer; `reason` is a message a person understands."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class FetchRefused(FetchError):
    """We would not fetch it: forbidden address or scheme, credentials in the URL, too many redirects, too big."""


class FetchFailed(FetchError):
    """The other side did not answer well: DNS, refused or reset connection, time-out, TLS, truncated body."""
