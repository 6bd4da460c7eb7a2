"""Small HTTP requests with timeouts and a size cap (the mirrorlist, repomd.json checks, the check-in)."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from mm_mirror import USER_AGENT

MAX_BODY = 16 << 20


class FetchError(Exception):
    """A request that got no usable answer: the reason says why, in a few words."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


def connection(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"not an http(s) URL: {url}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        return http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        ), path
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout), path


def describe(error: BaseException) -> str:
    """A short reason for a failed request, as the failover log prints it."""
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "time-out"
    if isinstance(error, http.client.IncompleteRead):
        return "truncated body"
    if isinstance(error, ssl.SSLError):
        return f"TLS error ({error.reason or error})"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    if isinstance(error, FetchError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
    max_body: int = MAX_BODY,
) -> Response:
    """One request; the whole answer. `timeout` bounds the connect and each read; FetchError on failure."""
    started = time.monotonic()
    deadline = started + 3 * timeout  # a server trickling bytes does not hold us for ever
    try:
        conn, path = connection(url, timeout)
        try:
            conn.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})})
            answer = conn.getresponse()
            length = answer.getheader("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_body:
                raise FetchError(f"answer too large ({length} bytes)")
            chunks = []
            size = 0
            while chunk := answer.read(65536):
                size += len(chunk)
                if size > max_body:
                    raise FetchError("answer too large")
                if time.monotonic() > deadline:
                    raise FetchError("time-out")
                chunks.append(chunk)
            if length is not None and length.isdigit() and size != int(length):
                raise FetchError("truncated body")
            return Response(
                answer.status,
                {k.lower(): v for k, v in answer.getheaders()},
                b"".join(chunks),
                time.monotonic() - started,
            )
        finally:
            conn.close()
    except FetchError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise FetchError(describe(error)) from None
