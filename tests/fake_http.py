"""Small fake web servers on 127.0.0.1 for the guard and probe tests: each path answers as told.

A route is bytes (200 with that body), or one of the behaviours below. Every wait is bounded, so a
test that forgets to stop a server never hangs the suite.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import struct
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

HANG_LIMIT = 15.0  # seconds a hanging route holds its connection at most


@dataclass(frozen=True)
class Redirect:
    location: str
    status: int = 302


@dataclass(frozen=True)
class Status:
    status: int
    body: bytes = b""


@dataclass(frozen=True)
class Hang:
    """Accept the request and never answer (until the server stops or HANG_LIMIT)."""


@dataclass(frozen=True)
class Reset:
    """Close the connection with a TCP reset before answering."""


@dataclass(frozen=True)
class Truncated:
    """Promise more bytes than are sent, then close."""

    body: bytes
    promised: int


Route = bytes | Redirect | Status | Hang | Reset | Truncated | Callable[[BaseHTTPRequestHandler], None]


@dataclass
class FakeServer:
    routes: dict[str, Route] = field(default_factory=dict)
    default: Route | None = None
    requests: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    scheme: str = "http"
    root: Path | None = None  # paths without a route are served from this directory

    def file_for(self, path: str) -> Path | None:
        if self.root is None:
            return None
        candidate = (self.root / unquote(path).lstrip("/")).resolve()
        inside = candidate.is_relative_to(self.root.resolve())
        return candidate if inside and candidate.is_file() else None

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base + path


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            server.requests.append(path)
            route = server.routes.get(path, server.default)
            if route is None and (file := server.file_for(path)) is not None:
                route = file.read_bytes()
            if route is None:
                self._send(404, b"not found")
            elif isinstance(route, bytes):
                self._send(200, route)
            elif isinstance(route, Status):
                self._send(route.status, route.body)
            elif isinstance(route, Redirect):
                self.send_response(route.status)
                self.send_header("Location", route.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif isinstance(route, Hang):
                server.stopping.wait(HANG_LIMIT)
            elif isinstance(route, Reset):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # The socket closes for real only once its file objects are closed too.
                self.rfile.close()
                self.wfile.close()
                self.connection.close()
            elif isinstance(route, Truncated):
                self.send_response(200)
                self.send_header("Content-Length", str(route.promised))
                self.end_headers()
                self.wfile.write(route.body)
                self.wfile.flush()
                self.close_connection = True
            else:
                route(self)

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def serve(
    routes: dict[str, Route] | None = None,
    *,
    default: Route | None = None,
    tls: ssl.SSLContext | None = None,
    root: Path | None = None,
) -> Iterator[FakeServer]:
    """A threaded server on 127.0.0.1 (a free port) for the length of the block."""
    fake = FakeServer(routes=dict(routes or {}), default=default, scheme="https" if tls else "http", root=root)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    httpd.daemon_threads = True
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    fake.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def self_signed_context(directory: Path, name: str = "mirror.example.org") -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a certificate made now by openssl; also the certificate's path."""
    if shutil.which("openssl") is None:
        raise RuntimeError("openssl is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name},IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, cert


def pretend_public_loopback(monkeypatch) -> tuple[dict[str, list[str]], list[str]]:
    """Treat 127.0.0.1 as a public address and answer a few names from a table, so the guard runs with
    allow_private=False while the only traffic still goes to 127.0.0.1. Returns (answers, lookups)."""
    from core.net import guard

    real_allowed = guard.address_allowed
    answers = {"mirror.example.org": ["127.0.0.1"], "inside.example.org": ["10.0.0.5"]}
    lookups: list[str] = []

    def fake_resolve(host: str, port: int, family: int = 0) -> list[str]:
        lookups.append(host)
        if host not in answers:
            raise guard.FetchFailed(f"could not resolve {host}: fake resolver")
        return list(answers[host])

    def allowed(address: str, *, allow_private: bool) -> bool:
        return address == "127.0.0.1" or real_allowed(address, allow_private=allow_private)

    monkeypatch.setattr(guard, "resolve", fake_resolve)
    monkeypatch.setattr(guard, "address_allowed", allowed)
    return answers, lookups


@contextmanager
def rsync_daemon(root: Path, workdir: Path, module: str = "pypi") -> Iterator[str]:
    """An rsync daemon on 127.0.0.1 serving `root` as a read-only module; yields rsync://127.0.0.1:PORT/MODULE/."""
    import os
    import time

    if shutil.which("rsync") is None:
        raise RuntimeError("rsync is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = workdir / "rsyncd.conf"
    config.write_text(
        f"use chroot = no\nuid = {os.getuid()}\ngid = {os.getgid()}\npid file = {workdir / 'rsyncd.pid'}\n"
        f"[{module}]\n  path = {root}\n  read only = yes\n"
    )
    process = subprocess.Popen(
        ["rsync", "--daemon", "--no-detach", f"--config={config}", f"--port={port}", "--address=127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"rsync://127.0.0.1:{port}/{module}/"
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
