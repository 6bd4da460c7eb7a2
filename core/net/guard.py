"""Fetching a URL that someone else gave us, without letting it reach our own network (request forgery).

A mirror operator types a URL; the origin then fetches it (proof of control, probes, later downloads).
Without a guard that URL could point at the origin's own services (127.0.0.1, 10.x, the cloud metadata
address 169.254.169.254), directly, by a redirect, or by a name whose DNS answer changes between the
check and the connection (rebinding). So:

- the name is resolved once, every address it resolves to is checked, and the connection goes to the
  address that was checked (urllib3 pools with the IP as host; TLS still checks the name through
  server_hostname/assert_hostname, and the Host header carries the name);
- redirects are followed here, one hop at a time, each hop checked like the first, up to a limit;
- connect and read timeouts, an overall deadline and a size cap are enforced while streaming.

Non-2xx answers are returned, not raised: the caller decides what a 404 means.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from core.net.addresses import FAMILIES, address_allowed, resolve
from core.net.errors import FetchError, FetchFailed, FetchRefused

__all__ = [
    "FetchError",
    "FetchFailed",
    "FetchRefused",
    "Fetched",
    "GuardedResponse",
    "Hashed",
    "address_allowed",
    "guarded_fetch",
    "guarded_sha256",
    "open_guarded",
    "resolve",
]

USER_AGENT = "mirrormanager-probe/0.1"
CHUNK = 64 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Fetched:
    """A complete answer (any status); `url` is the final URL after redirects."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    peer_address: str


@dataclass(frozen=True)
class Hashed:
    """A body that was streamed through sha256 and not kept (empty sha256 when the status was not 2xx)."""

    url: str
    status: int
    headers: Mapping[str, str]
    sha256: str
    size: int
    peer_address: str


@dataclass(frozen=True)
class FetchLimits:
    """The limits of one fetch, as keyword arguments travel through open_guarded."""

    allow_private: bool
    connect_timeout: float
    read_timeout: float
    max_bytes: int
    max_redirects: int = 3
    family: int = 0
    deadline: float | None = None  # a time.monotonic() instant
    ca_certs: str | None = None  # extra trust (tests); None = the system's store

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def bounded(self, seconds: float, what: str) -> float:
        """`seconds`, shortened to what is left before the deadline; FetchFailed when nothing is left."""
        left = self.remaining()
        if left is None:
            return seconds
        if left <= 0:
            raise FetchFailed(f"gave up: the overall time limit ran out while {what}")
        return min(seconds, left)


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str
    host_header: str


def _parse(url: str) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise FetchRefused(f"not a valid URL: {url!r}") from error
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchRefused(f"only http and https URLs are fetched, not {scheme or 'a URL without a scheme'}")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused("URLs with a user name or password are not fetched")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchRefused(f"the URL has no host name: {url!r}")
    default = 443 if scheme == "https" else 80
    port = port or default
    shown = f"[{host}]" if ":" in host else host
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Target(scheme, host, port, path, shown if port == default else f"{shown}:{port}")


def _checked_addresses(target: _Target, limits: FetchLimits) -> list[str]:
    try:
        literal = ipaddress.ip_address(target.host)
    except ValueError:
        addresses = resolve(target.host, target.port, limits.family)
    else:
        wanted = {0: None, 4: 4, 6: 6}[limits.family]
        if wanted is not None and literal.version != wanted:
            raise FetchFailed(f"{target.host} is not an IPv{wanted} address")
        addresses = [str(literal)]
    for address in addresses:
        if not address_allowed(address, allow_private=limits.allow_private):
            raise FetchRefused(f"{target.host} resolves to {address}, a private or special address; not fetched")
    return addresses


def _describe(error: BaseException, where: str, limits: FetchLimits) -> FetchFailed:
    if isinstance(error, SSLError):
        return FetchFailed(f"TLS error with {where}: {error}")
    if isinstance(error, NewConnectionError):
        cause = error.__cause__ or error.__context__
        if isinstance(cause, ConnectionRefusedError):
            return FetchFailed(f"connection refused by {where}")
        if isinstance(cause, (TimeoutError, socket.timeout)):
            return FetchFailed(f"could not connect to {where} within {limits.connect_timeout:g} s")
        return FetchFailed(f"could not connect to {where}: {cause or error}")
    if isinstance(error, ConnectTimeoutError):
        return FetchFailed(f"could not connect to {where} within {limits.connect_timeout:g} s")
    if isinstance(error, (ReadTimeoutError, TimeoutError, socket.timeout)):
        return FetchFailed(f"no answer from {where} within {limits.read_timeout:g} s")
    if isinstance(error, ProtocolError):
        text = str(error)
        if "IncompleteRead" in text or "incomplete" in text.lower():
            return FetchFailed(f"{where} ended the body early (truncated)")
        if "reset" in text.lower() or "RemoteDisconnected" in text or "aborted" in text.lower():
            return FetchFailed(f"connection reset by {where}")
        return FetchFailed(f"broken answer from {where}: {text}")
    if isinstance(error, ConnectionResetError):
        return FetchFailed(f"connection reset by {where}")
    return FetchFailed(f"request to {where} failed: {error}")


class GuardedResponse:
    """An open answer whose body is streamed under the size cap and the deadline."""

    def __init__(
        self,
        url: str,
        response: urllib3.BaseHTTPResponse,
        peer: str,
        limits: FetchLimits,
        pool: urllib3.HTTPConnectionPool,
    ) -> None:
        self.url = url
        self._pool = pool
        self.status = response.status
        self.headers: Mapping[str, str] = dict(response.headers.items())
        self.peer_address = peer
        self._response = response
        self._limits = limits
        self._where = f"{urlsplit(url).hostname} ({peer})"

    def iter_chunks(self, max_bytes: int | None = None) -> Iterator[bytes]:
        """The body in chunks; FetchRefused once it passes max_bytes (default: the fetch's cap)."""
        cap = self._limits.max_bytes if max_bytes is None else max_bytes
        declared = self.headers.get("content-length") or self.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchRefused(f"the body is {int(declared)} bytes, more than the {cap} allowed")
        seen = 0
        while True:
            timeout = self._limits.bounded(self._limits.read_timeout, "reading the body")
            sock = getattr(self._response.connection, "sock", None)
            if sock is not None:
                sock.settimeout(timeout)
            try:
                chunk = self._response.read1(CHUNK)
            except (HTTPError, OSError) as error:
                raise _describe(error, self._where, self._limits) from error
            if not chunk:
                return
            seen += len(chunk)
            if seen > cap:
                raise FetchRefused(f"the body is more than the {cap} bytes allowed")
            yield chunk

    def read(self, max_bytes: int | None = None) -> bytes:
        return b"".join(self.iter_chunks(max_bytes))

    def close(self) -> None:
        self._response.close()
        self._response.release_conn()
        self._pool.close()


def _pool(target: _Target, address: str, limits: FetchLimits, timeout: urllib3.Timeout) -> urllib3.HTTPConnectionPool:
    common = {"host": address, "port": target.port, "timeout": timeout, "maxsize": 1, "retries": False}
    if target.scheme == "http":
        return urllib3.HTTPConnectionPool(**common)
    is_literal = target.host == address
    return urllib3.HTTPSConnectionPool(
        **common,
        cert_reqs="CERT_REQUIRED",
        ca_certs=limits.ca_certs,
        server_hostname=None if is_literal else target.host,
        assert_hostname=target.host,
    )


@dataclass(frozen=True)
class _Opened:
    response: urllib3.BaseHTTPResponse
    address: str
    pool: urllib3.HTTPConnectionPool


def _request_once(target: _Target, limits: FetchLimits, headers: Mapping[str, str]) -> _Opened:
    """One request to the first checked address that accepts a connection."""
    addresses = _checked_addresses(target, limits)
    sent = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **headers, "Host": target.host_header}
    last: FetchFailed | None = None
    for address in addresses:
        timeout = urllib3.Timeout(
            connect=limits.bounded(limits.connect_timeout, "connecting"),
            read=limits.bounded(limits.read_timeout, "waiting for the answer"),
        )
        pool = _pool(target, address, limits, timeout)
        where = f"{target.host} ({address})" if target.host != address else address
        try:
            response = pool.urlopen(
                "GET", target.path, headers=sent, redirect=False, retries=False, preload_content=False
            )
        except (HTTPError, OSError) as error:
            pool.close()
            last = _describe(error, where, limits)
            if isinstance(error, (NewConnectionError, ConnectTimeoutError)) and not isinstance(error, SSLError):
                continue  # the next checked address may answer
            raise last from error
        return _Opened(response, address, pool)
    assert last is not None
    raise last


@contextmanager
def open_guarded(
    url: str,
    *,
    allow_private: bool,
    connect_timeout: float,
    read_timeout: float,
    max_bytes: int,
    max_redirects: int = 3,
    family: int = 0,
    deadline: float | None = None,
    headers: Mapping[str, str] | None = None,
    ca_certs: str | None = None,
) -> Iterator[GuardedResponse]:
    """Open a URL under the guard, following redirects; the body is read from the yielded response."""
    if family not in FAMILIES:
        raise ValueError("family must be 0, 4 or 6")
    limits = FetchLimits(
        allow_private, connect_timeout, read_timeout, max_bytes, max_redirects, family, deadline, ca_certs
    )
    current = url
    for hop in range(max_redirects + 1):
        target = _parse(current)
        opened = _request_once(target, limits, headers or {})
        location = opened.response.headers.get("Location")
        if opened.response.status in REDIRECTS and location:
            opened.response.close()
            opened.response.release_conn()
            opened.pool.close()
            if hop == max_redirects:
                raise FetchRefused(f"more than {max_redirects} redirects, starting at {url}")
            current = urljoin(current, location)
            continue
        guarded = GuardedResponse(current, opened.response, opened.address, limits, opened.pool)
        try:
            yield guarded
        finally:
            guarded.close()
        return


def guarded_fetch(
    url: str,
    *,
    allow_private: bool,
    connect_timeout: float,
    read_timeout: float,
    max_bytes: int,
    max_redirects: int = 3,
    family: int = 0,
    deadline: float | None = None,
    headers: Mapping[str, str] | None = None,
    ca_certs: str | None = None,
) -> Fetched:
    """Fetch a whole body (any status) under the guard; FetchRefused or FetchFailed when it cannot be had.

    `deadline` is a time.monotonic() instant by which everything, redirects included, must be done.
    """
    with open_guarded(
        url,
        allow_private=allow_private,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_bytes=max_bytes,
        max_redirects=max_redirects,
        family=family,
        deadline=deadline,
        headers=headers,
        ca_certs=ca_certs,
    ) as response:
        body = response.read()
        return Fetched(response.url, response.status, response.headers, body, response.peer_address)


def guarded_sha256(
    url: str,
    *,
    allow_private: bool,
    connect_timeout: float,
    read_timeout: float,
    max_bytes: int,
    max_redirects: int = 3,
    family: int = 0,
    deadline: float | None = None,
    headers: Mapping[str, str] | None = None,
    ca_certs: str | None = None,
) -> Hashed:
    """Stream a body through sha256 without keeping it (memory stays at one chunk), under max_bytes.

    A non-2xx answer is returned with an empty sha256 and its body is not read.
    """
    with open_guarded(
        url,
        allow_private=allow_private,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_bytes=max_bytes,
        max_redirects=max_redirects,
        family=family,
        deadline=deadline,
        headers=headers,
        ca_certs=ca_certs,
    ) as response:
        hasher = hashlib.sha256()
        size = 0
        ok = 200 <= response.status < 300
        if ok:
            for chunk in response.iter_chunks():
                hasher.update(chunk)
                size += len(chunk)
        sha256 = hasher.hexdigest() if ok else ""
        return Hashed(response.url, response.status, response.headers, sha256, size, response.peer_address)
