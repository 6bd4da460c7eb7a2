"""The proxy's HTTP side: a threaded http.server on 127.0.0.1 that relays each request to a mirror.

Threads rather than asyncio: the standard library has no asyncio HTTP client, http.client is
blocking, installers open a handful of connections each, and a thread per installer connection
with one kept-alive connection per mirror is simple and fast enough on loopback (bench/RESULTS.md).

What is relayed: the method (GET, HEAD), the path under `/<collection>/`, the Accept header (PEP 691
content negotiation happens at the mirror), Range and conditional headers (not for project pages,
whose hashes the proxy must see). The answer keeps its status, Content-Type, Vary, caching headers.
Project pages are read whole, checked for length, their hashes recorded, then sent. A package file
whose sha256 is known (from a page served, or its content-addressed path) is spooled (memory up to
1 MiB, then a temporary file) and hashed before a byte of it goes out, so a corrupt or truncated copy
is retried on the next mirror without the installer noticing. Above `spool_limit` it is streamed with
its last chunk held back: on a wrong hash the connection is cut, and the installer's retry goes to the
next mirror.
"""

from __future__ import annotations

import hashlib
import http.client
import shutil
import socket
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import BinaryIO

from mm_mirror.proxy.hashes import HashBook, tree_key
from mm_mirror.proxy.pool import MirrorPool, MirrorState
from mm_mirror.proxy.upstream import Connections, MirrorFailure, Target

CHUNK = 256 << 10
PAGE_LIMIT = 64 << 20
FORWARD_REQUEST = ("accept", "range", "if-range", "if-none-match", "if-modified-since")
CONDITIONAL = ("if-none-match", "if-modified-since", "if-range", "range")
FORWARD_RESPONSE = (
    "content-type", "etag", "last-modified", "cache-control", "expires", "vary", "content-range", "accept-ranges",
    "content-disposition",
)  # fmt: skip


class CutFailure(MirrorFailure):
    """The mirror failed after the answer's headers went out: the installer's connection is cut."""


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], *, pool: MirrorPool, collection: str, connections: Connections,
        hashbook: HashBook | None = None, spool_limit: int = 64 << 20, sock: socket.socket | None = None,
    ) -> None:  # fmt: skip
        """Listens on `address`, or on `sock` when given: a socket bound and listening already (see run)."""
        self.pool = pool
        self.collection = collection
        self.prefix = f"/{collection}/"
        self.connections = connections
        self.hashbook = hashbook or HashBook()
        self.spool_limit = spool_limit
        self.targets: dict[str, Target] = {}
        self.served = 0
        if sock is None:
            super().__init__(address, ProxyHandler)
            return
        super().__init__(sock.getsockname(), ProxyHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.server_address = sock.getsockname()

    @property
    def index_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{self.prefix}simple/"

    def target(self, state: MirrorState) -> Target:
        target = self.targets.get(state.url)
        if target is None:
            target = self.targets[state.url] = Target.of(state.url)
        return target


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mm-mirror"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the
    # installer's delayed ACK hold the body back ~40 ms per answer.
    disable_nagle_algorithm = True
    server: ProxyServer

    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.connections.close_all()

    def do_GET(self) -> None:  # noqa: N802
        self._relay("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._relay("HEAD")

    # -- one request --------------------------------------------------------------------------

    def _relay(self, method: str) -> None:
        server = self.server
        if not self.path.startswith(server.prefix):
            self._error(404, f"mm-mirror serves {server.prefix}… only; the index is {server.index_url}")
            return
        relative = _without_dot_segments(self.path[len(server.prefix) :])
        if relative is None:
            self._error(404, "mm-mirror: the path leaves the collection")
            return
        key = tree_key(relative)
        project_page = key.startswith("simple/") and key.count("/") == 2 and key.endswith("/")
        headers = {"Accept-Encoding": "identity"}
        for name in FORWARD_REQUEST:
            value = self.headers.get(name)
            if value is not None and not (project_page and name in CONDITIONAL):
                headers[name.title()] = value
        expected = None if key.startswith("simple/") or "Range" in headers else server.hashbook.expected(key)
        tried: set[str] = set()
        reasons: list[str] = []
        try:
            while True:
                state = server.pool.choose(tried)
                if state is None:
                    detail = "; ".join(reasons) or "no mirror is usable"
                    self._error(502, f"mm-mirror: no mirror could serve /{key}: {detail}")
                    return
                tried.add(state.url)
                try:
                    self._attempt(state, method, relative, key, headers, project_page, expected)
                    server.served += 1
                    return
                except MirrorFailure as failure:
                    reasons.append(f"{state.url} {failure.reason}")
                    server.pool.demote(state, failure.reason, f"{method} /{key}")
                    if isinstance(failure, CutFailure):
                        self.close_connection = True
                        return
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the installer went away: nobody to blame

    def _attempt(
        self, state: MirrorState, method: str, relative: str, key: str, headers: dict[str, str],
        project_page: bool, expected: str | None,
    ) -> None:  # fmt: skip
        server = self.server
        target = server.target(state)
        conn, response = server.connections.request(target, method, target.base_path + relative, headers)
        try:
            status = response.status
            if status >= 500:
                raise MirrorFailure(f"HTTP {status}")
            if status == 404 and expected is not None:
                raise MirrorFailure("HTTP 404 for a file a page lists")
            length = _length(response)
            if method == "HEAD" or status in (204, 304) or status < 200:
                self._head(status, response, length if method == "HEAD" else 0, state)
            elif project_page and status == 200 and (length is None or length <= PAGE_LIMIT):
                body = _read_all(response, length, PAGE_LIMIT)
                server.hashbook.record_page(key, body, response.getheader("Content-Type", ""))
                self._head(status, response, len(body), state)
                self.wfile.write(body)
            elif expected is not None and status == 200 and (length is None or length <= server.spool_limit):
                with tempfile.SpooledTemporaryFile(max_size=1 << 20) as spool:
                    size = _spool(response, length, expected, spool)
                    self._head(status, response, size, state)
                    spool.seek(0)
                    shutil.copyfileobj(spool, self.wfile, CHUNK)
            elif expected is not None and status == 200:
                self._head(status, response, length, state)
                _stream_verified(response, length, expected, self.wfile)
            elif length is None:
                with tempfile.SpooledTemporaryFile(max_size=1 << 20) as spool:
                    size = _spool(response, None, None, spool)
                    self._head(status, response, size, state)
                    spool.seek(0)
                    shutil.copyfileobj(spool, self.wfile, CHUNK)
            else:
                self._head(status, response, length, state)
                _stream_verified(response, length, None, self.wfile)
        except BaseException:
            conn.close()
            raise
        server.connections.release(target, conn, response)

    # -- answering ----------------------------------------------------------------------------

    def _head(self, status: int, response: http.client.HTTPResponse, length: int | None, state: MirrorState) -> None:
        self.send_response(status, response.reason)
        for name in FORWARD_RESPONSE:
            value = response.getheader(name)
            if value is not None:
                self.send_header(name.title(), value)
        location = response.getheader("Location")
        if location is not None:
            if location.startswith(state.url):
                location = self.server.prefix + location[len(state.url) :]
            self.send_header("Location", location)
        if length is not None:
            self.send_header("Content-Length", str(length))
        else:
            self.close_connection = True
        self.end_headers()

    def _error(self, status: int, message: str) -> None:
        body = (message + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _without_dot_segments(relative: str) -> str | None:
    """The path with '.' and '..' resolved (RFC 3986), None when it climbs out of the collection."""
    path, mark, query = relative.partition("?")
    parts: list[str] = []
    segments = path.split("/")
    for segment in segments:
        if segment == "..":
            if not parts:
                return None
            parts.pop()
        elif segment != ".":
            parts.append(segment)
    if segments[-1] in (".", "..") and parts and parts[-1] != "":
        parts.append("")
    return "/".join(parts) + mark + query


def _length(response: http.client.HTTPResponse) -> int | None:
    value = response.getheader("Content-Length")
    return int(value) if value is not None and value.strip().isdigit() else None


def _chunks(response: http.client.HTTPResponse, length: int | None, limit: int | None = None):
    """The body in chunks; MirrorFailure when it is cut short of its Content-Length or the mirror stalls."""
    received = 0
    while True:
        try:
            chunk = response.read(CHUNK)
        except (socket.timeout, TimeoutError):
            raise MirrorFailure("read time-out") from None
        except (OSError, http.client.HTTPException) as error:
            raise MirrorFailure(f"truncated body ({type(error).__name__})") from None
        if not chunk:
            break
        received += len(chunk)
        if limit is not None and received > limit:
            raise MirrorFailure("answer too large")
        yield chunk
    if length is not None and received != length:
        raise MirrorFailure(f"truncated body ({received} of {length} bytes)")


def _read_all(response: http.client.HTTPResponse, length: int | None, limit: int) -> bytes:
    return b"".join(_chunks(response, length, limit))


def _spool(response: http.client.HTTPResponse, length: int | None, expected: str | None, spool: BinaryIO) -> int:
    digest = hashlib.sha256()
    size = 0
    for chunk in _chunks(response, length):
        digest.update(chunk)
        spool.write(chunk)
        size += len(chunk)
    if expected is not None and digest.hexdigest() != expected:
        raise MirrorFailure("sha256 does not match the page")
    return size


def _stream_verified(
    response: http.client.HTTPResponse, length: int | None, expected: str | None, out: BinaryIO
) -> None:
    """Stream with the last chunk held back until the whole body is in and (with `expected`) hashed."""
    digest = hashlib.sha256()
    held = b""
    try:
        for chunk in _chunks(response, length):
            if held:
                out.write(held)
            digest.update(chunk)
            held = chunk
    except MirrorFailure as failure:
        raise CutFailure(failure.reason) from None
    if expected is not None and digest.hexdigest() != expected:
        raise CutFailure("sha256 does not match the page")
    out.write(held)
