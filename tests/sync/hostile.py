"""A hostile upstream on 127.0.0.1 that the tests control, and the damaged files it serves.

Routes are exact paths: bytes with a content type, or a callable that writes the answer itself (drips,
redirects). Every wait is bounded, so a test that forgets to stop a server never hangs the suite.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import lzma
import struct
import tarfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
DRIP_LIMIT = 20.0  # seconds a dripping answer lasts at most


@dataclass
class Answer:
    body: bytes
    content_type: str = "application/octet-stream"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Route = Answer | Callable[[BaseHTTPRequestHandler], None]


class HostileUpstream:
    """A JSON simple index: root() lists projects, project() lists files, file() serves bytes."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.projects: list[str] = []

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/simple/"

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def root(self) -> None:
        body = {"meta": {"api-version": "1.1"}, "projects": [{"name": name} for name in self.projects]}
        self.routes["/simple/"] = Answer(json.dumps(body).encode(), JSON_TYPE)

    def project(self, name: str, files: list[dict[str, Any]] | None = None, *, body: bytes | None = None) -> None:
        """List a project: its page from file entries (JSON), or a raw body as is."""
        if name not in self.projects:
            self.projects.append(name)
        if body is None:
            body = json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files or []}).encode()
        self.routes[f"/simple/{name}/"] = Answer(body, JSON_TYPE)
        self.root()

    def file(self, filename: str, data: bytes, *, listed_hash: bool = True, **entry: Any) -> dict[str, Any]:
        """Serve a file under /files/ and return its index entry (sha256 listed unless listed_hash=False)."""
        self.routes[f"/files/{filename}"] = Answer(data)
        hashes = {"sha256": hashlib.sha256(data).hexdigest()} if listed_hash else {}
        return {"filename": filename, "url": f"{self.base}/files/{filename}", "hashes": hashes, **entry}


def _handler_for(upstream: HostileUpstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base
            pass

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def do_GET(self) -> None:
            self._answer(head=False)

        def _answer(self, *, head: bool) -> None:
            path = self.path.split("?", 1)[0]
            with upstream.lock:
                upstream.hits[f"{'HEAD ' if head else ''}{path}"] += 1  # GETs by path alone
            route = upstream.routes.get(path)
            if route is None:
                route = Answer(b"not found", "text/plain", 404)
            if callable(route):
                route(self)
                return
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            for key, value in route.headers.items():
                self.send_header(key, value)
            self.end_headers()
            if not head:
                self.wfile.write(route.body)

    return Handler


def header_drip(upstream: HostileUpstream, interval: float = 0.1) -> Callable[[BaseHTTPRequestHandler], None]:
    """Send the status line, then the headers one byte at a time, each within any read timeout."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        stop = time.monotonic() + DRIP_LIMIT
        try:
            handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
            handler.wfile.flush()
            while time.monotonic() < stop and not upstream.stopping.is_set():
                handler.wfile.write(b"X")
                handler.wfile.flush()
                time.sleep(interval)
        except OSError:
            pass

    return answer


def body_drip(upstream: HostileUpstream, interval: float = 0.1) -> Callable[[BaseHTTPRequestHandler], None]:
    """A page whose body comes one byte at a time, each within any read timeout (chunked: no length)."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        stop = time.monotonic() + DRIP_LIMIT
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", JSON_TYPE)
            handler.send_header("Content-Length", "1000000")
            handler.end_headers()
            while time.monotonic() < stop and not upstream.stopping.is_set():
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(interval)
        except OSError:
            pass

    return answer


def redirect(location: str) -> Answer:
    return Answer(b"", "text/plain", 302, {"Location": location})


# -- damaged archives ------------------------------------------------------------------------------


def zip_damage(data: bytes, member_suffix: str, how: str) -> bytes:
    """The zip with one member damaged: "deflate" (corrupt stream), "encrypted" (flag), "method" (unknown)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith(member_suffix))
        infos = archive.infolist()
    out = bytearray(data)
    local = info.header_offset
    name_length, extra_length = struct.unpack("<HH", out[local + 26 : local + 30])
    start = local + 30 + name_length + extra_length
    if how == "deflate":
        assert info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size > 4
        out[start : start + 4] = bytes(b ^ 0xFF for b in out[start : start + 4])
        return bytes(out)
    # The central directory entry of the member: find it by its local header offset.
    central = _central_entry(out, infos, info)
    if how == "encrypted":
        for offset in (local + 6, central + 8):  # general purpose flags
            flags = struct.unpack("<H", out[offset : offset + 2])[0] | 0x1
            out[offset : offset + 2] = struct.pack("<H", flags)
    elif how == "method":
        for offset in (local + 8, central + 10):  # compression method
            out[offset : offset + 2] = struct.pack("<H", 97)
    else:
        raise ValueError(how)
    return bytes(out)


def _central_entry(out: bytearray, infos: list[zipfile.ZipInfo], info: zipfile.ZipInfo) -> int:
    position = out.rfind(b"PK\x05\x06")
    directory = struct.unpack("<I", out[position + 16 : position + 20])[0]
    while True:
        assert out[directory : directory + 4] == b"PK\x01\x02"
        name_length, extra_length, comment_length = struct.unpack("<HHH", out[directory + 28 : directory + 34])
        offset = struct.unpack("<I", out[directory + 42 : directory + 46])[0]
        if offset == info.header_offset:
            return directory
        directory += 46 + name_length + extra_length + comment_length


def tar_bytes(members: dict[str, bytes], *, compress: str = "gz") -> bytes:
    """A tar archive of these members, compressed with gz, xz or not at all ("")."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    plain = raw.getvalue()
    if compress == "gz":
        return gzip.compress(plain, mtime=0)
    if compress == "xz":
        return lzma.compress(plain)
    return plain


def tar_header_bomb(members: int) -> bytes:
    """A .tar.gz of `members` empty members in a few MB: one gzip member of 2048 headers, repeated
    (gzip allows many members in one file), so that it is built in no time."""
    info = tarfile.TarInfo("empty")
    info.mtime = 1_700_000_000
    header = info.tobuf(format=tarfile.USTAR_FORMAT)
    per_piece = 2048
    piece = gzip.compress(header * per_piece, mtime=0)
    return piece * (members // per_piece) + gzip.compress(tarfile.NUL * 1024, mtime=0)
