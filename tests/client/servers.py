"""Servers on 127.0.0.1 for the client's tests and its benchmark: a stand-in origin and mirrors
that misbehave in each way the proxy must survive. No Django here (the benchmark uses it too).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
WANTS_JSON = re.compile(r"application/vnd\.pypi\.simple\.v1\+json")
SIMPLE_FOLDER = re.compile(r"^/[^/]+/simple/(?:[^/]+/)?$")
MM_NS = "urn:x-mirrormanager:metalink:1"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler, **attributes) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.requests: list[str] = []
        for key, value in attributes.items():
            setattr(self, key, value)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


@contextlib.contextmanager
def running(server: _Server):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class TreeHandler(SimpleHTTPRequestHandler):
    """Static files of a folder holding `<slug>/…` trees, with PEP 691 negotiation as the documented
    nginx does; `mode` "error500" answers 500 to everything but repodata/repomd.json, "truncated"
    promises more bytes than it sends for package files."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # as nginx's tcp_nodelay

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_GET(self):  # noqa: N802
        self.server.requests.append(self.path)
        mode = self.server.mode
        if mode == "error500" and not self.path.endswith("/repodata/repomd.json"):
            self._plain(500, b"internal error\n")
            return
        if mode == "truncated" and "/packages/" in self.path:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 100)
            self.close_connection = True
            return
        super().do_GET()

    def _plain(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_head(self):
        path = self.path.split("?", 1)[0]
        if not SIMPLE_FOLDER.match(path):
            return super().send_head()
        as_json = bool(WANTS_JSON.search(self.headers.get("Accept", "")))
        page = Path(self.translate_path(path)) / ("index.json" if as_json else "index.html")
        if not page.is_file():
            self.send_error(404)
            return None
        handle = open(page, "rb")  # noqa: SIM115 - closed by the base class
        self.send_response(200)
        self.send_header("Content-Type", JSON_TYPE if as_json else "text/html; charset=utf-8")
        self.send_header("Content-Length", str(page.stat().st_size))
        self.send_header("Vary", "Accept")
        self.end_headers()
        return handle


def tree_server(directory: Path, *, mode: str = "good") -> _Server:
    """Serves `directory` (holding `<slug>/`) at http://127.0.0.1:PORT/."""
    return _Server(partial(TreeHandler, directory=str(directory)), mode=mode, directory=directory)


class HangingServer:
    """Accepts connections and never answers (a read time-out for every request)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.held: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/"

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.held.append(conn)

    def __enter__(self) -> HangingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        for conn in self.held:
            conn.close()
        self.sock.close()


def refusing_url() -> str:
    """A port of 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@dataclass
class Listing:
    """What the stand-in origin answers for one collection."""

    mirrors: list[str]
    repomd: bytes  # the current revision's repomd.json
    recent: list[bytes] = field(default_factory=list)
    metalink: bool = True  # False: format=metalink answers 404 (the client falls back to JSON)

    @property
    def revision(self) -> int:
        return int(json.loads(self.repomd)["revision"])


def metalink_xml(slug: str, listing: Listing) -> bytes:
    """The metalink documented in docs/clients.md."""
    sha = hashlib.sha256(listing.repomd).hexdigest()
    urls = "\n".join(
        f'    <url priority="{n}">{escape(url)}repodata/repomd.json</url>' for n, url in enumerate(listing.mirrors, 1)
    )
    alternates = "\n".join(
        f'      <mm:alternate revision="{json.loads(old)["revision"]}">'
        f'<hash type="sha-256">{hashlib.sha256(old).hexdigest()}</hash>'
        f"<size>{len(old)}</size></mm:alternate>"
        for old in listing.recent
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<metalink xmlns="urn:ietf:params:xml:ns:metalink" xmlns:mm="{MM_NS}">
  <generator>stand-in origin</generator>
  <file name="repomd.json">
    <mm:revision number="{listing.revision}" timestamp="2026-11-21T10:00:00Z" table="1"/>
    <size>{len(listing.repomd)}</size>
    <hash type="sha-256">{sha}</hash>
    <mm:alternates>
{alternates}
    </mm:alternates>
{urls}
  </file>
</metalink>
""".encode()


def listing_json(slug: str, listing: Listing) -> bytes:
    return json.dumps(
        {
            "collection": slug,
            "revision": listing.revision,
            "repomd_sha256": hashlib.sha256(listing.repomd).hexdigest(),
            "recent_repomd_sha256": [hashlib.sha256(old).hexdigest() for old in listing.recent],
            "client": {"ip": "127.0.0.1", "country": None, "continent": None, "asn": None},
            "mirrors": [{"url": url, "host": "127.0.0.1", "country": "", "tier": "world"} for url in listing.mirrors],
        }
    ).encode()


class OriginHandler(BaseHTTPRequestHandler):
    """GET /api/v1/mirrorlist/<slug>/?format=metalink|json and POST /api/v1/checkin/."""

    def log_message(self, format, *args):  # noqa: A002
        pass

    def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        self.server.requests.append(self.path)
        parts = urlsplit(self.path)
        match = re.fullmatch(r"/api/v1/mirrorlist/([^/]+)/", parts.path)
        listing = self.server.listings.get(match.group(1)) if match else None
        if listing is None:
            self._answer(404, b'{"detail": "no such collection"}')
            return
        fmt = parse_qs(parts.query).get("format", ["json"])[0]
        if fmt == "metalink":
            if not listing.metalink:
                self._answer(404, b'{"detail": "no metalink here"}')
                return
            self._answer(200, metalink_xml(match.group(1), listing), "application/metalink4+xml")
            return
        self._answer(200, listing_json(match.group(1), listing))

    def do_POST(self):  # noqa: N802
        self.server.requests.append(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.checkins.append((self.headers.get("Authorization"), json.loads(body or b"{}")))
        if self.path != "/api/v1/checkin/":
            self._answer(404, b'{"detail": "not found"}')
        elif self.headers.get("Authorization") != f"Token {self.server.token}":
            self._answer(401, b'{"detail": "Invalid token."}')
        else:
            self._answer(200, json.dumps({"state": self.server.checkin_state}).encode())


def origin_server(listings: dict[str, Listing]) -> _Server:
    return _Server(OriginHandler, listings=listings, checkins=[], token="secret-token", checkin_state="current")


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False
