"""A fake upstream on 127.0.0.1 with injectable faults, and fixtures around it."""

from __future__ import annotations

import hashlib
import html
import json
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from packaging.utils import canonicalize_name

from sync.models import Upstream
from sync.sample_packages import SamplePackage, build_package
from sync.services import upstream_add

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass
class FakeFile:
    """One file the fake upstream lists and serves."""

    filename: str
    data: bytes
    listed_sha256: str | None = ""  # "" = the real hash, None = no hash listed
    requires_python: str = ""
    yanked: str | None = None  # None = not yanked, "" = yanked without reason
    core_metadata: str | None = None  # HTML attribute value / JSON sha256 (or "true")
    href: str = ""  # overrides the link (relative to the project page)
    # Faults, consumed one per request; `always` applies to every request while set.
    faults: list[str] = field(default_factory=list)
    always: str = ""

    @property
    def path(self) -> str:
        return f"/files/{self.filename}"

    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class FakeUpstream:
    """PEP 503 HTML and/or PEP 691 JSON (mode "html", "json" or "both"), ETags, serials on demand."""

    def __init__(self) -> None:
        self.projects: dict[str, list[FakeFile]] = {}
        self.mode = "both"
        self.serials = False
        self.serial = 1
        self.hits: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.extra_pages: dict[str, bytes] = {}  # path -> HTML body, for pages the tests craft
        self.drip_seconds = 2.0
        # The "trickle" fault: this many bytes every trickle_interval seconds (never a full read timeout).
        self.trickle_bytes = 16
        self.trickle_interval = 0.1
        self.page_status: dict[str, int] = {}  # path -> status sent instead of the page (e.g. 304)
        self.etag_padding = ""  # makes every page's ETag this much longer
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/simple/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, package: SamplePackage, **options: object) -> FakeFile:
        """List a valid package built from a SamplePackage."""
        options.setdefault("requires_python", package.requires_python)
        fake = FakeFile(package.filename, build_package(package), **options)  # type: ignore[arg-type]
        self.projects.setdefault(canonicalize_name(package.name), []).append(fake)
        self.serial += 1
        return fake

    def file(self, filename: str) -> FakeFile:
        for files in self.projects.values():
            for fake in files:
                if fake.filename == filename:
                    return fake
        raise KeyError(filename)

    # -- pages -------------------------------------------------------------------------------------

    def root_html(self) -> bytes:
        links = "".join(
            f'<a href="{html.escape(quote(name, safe=""))}/">{html.escape(name)}</a>\n'
            for name in sorted(self.projects)
        )
        return f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()

    def root_json(self) -> bytes:
        meta: dict[str, object] = {"api-version": "1.1"}
        projects = [{"name": name} for name in sorted(self.projects)]
        if self.serials:
            meta["_last-serial"] = self.serial
            for entry in projects:
                entry["_last-serial"] = self.serial
        return json.dumps({"meta": meta, "projects": projects}).encode()

    def project_html(self, name: str) -> bytes:
        anchors = []
        for fake in self.projects[name]:
            href = fake.href or f"../../files/{fake.filename}"
            if fake.listed_sha256 is not None:
                href += f"#sha256={fake.listed_sha256 or fake.sha256()}"
            attrs = ""
            if fake.requires_python:
                attrs += f' data-requires-python="{html.escape(fake.requires_python)}"'
            if fake.yanked is not None:
                attrs += f' data-yanked="{html.escape(fake.yanked)}"' if fake.yanked else " data-yanked"
            if fake.core_metadata is not None:
                attrs += f' data-core-metadata="{fake.core_metadata}"'
            anchors.append(f'<a href="{html.escape(href)}"{attrs}>{html.escape(fake.filename)}</a>\n')
        return f"<!DOCTYPE html><html><body>\n{''.join(anchors)}</body></html>\n".encode()

    def project_json(self, name: str) -> bytes:
        files = []
        for fake in self.projects[name]:
            entry: dict[str, object] = {
                "filename": fake.filename,
                "url": fake.href or f"../../files/{fake.filename}",
                "hashes": {} if fake.listed_sha256 is None else {"sha256": fake.listed_sha256 or fake.sha256()},
                "size": len(fake.data),
                "upload-time": "2024-05-01T12:00:00.000000Z",
            }
            if fake.requires_python:
                entry["requires-python"] = fake.requires_python
            if fake.yanked is not None:
                entry["yanked"] = fake.yanked or True
            if fake.core_metadata is not None:
                entry["core-metadata"] = (
                    True if fake.core_metadata == "true" else {"sha256": fake.core_metadata.split("=", 1)[-1]}
                )
            files.append(entry)
        meta: dict[str, object] = {"api-version": "1.1"}
        if self.serials:
            meta["_last-serial"] = self.serial
        return json.dumps({"meta": meta, "name": name, "files": files}).encode()


def _handler_for(upstream: FakeUpstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base
            pass

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def do_GET(self) -> None:
            self._serve(head=False)

        def _serve(self, *, head: bool) -> None:
            path = self.path.split("?", 1)[0]
            with upstream.lock:
                upstream.hits[f"{'HEAD ' if head else ''}{path}"] += 1
            if path.startswith("/files/"):
                self._serve_file(path, head=head)
            else:
                self._serve_page(path)

        def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
            upstream.statuses[f"{status} {self.path}"] += 1
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _serve_page(self, path: str) -> None:
            if path in upstream.page_status:
                self._send(upstream.page_status[path], b"", "text/html")
                return
            if path in upstream.extra_pages:
                self._send(200, upstream.extra_pages[path], "text/html")
                return
            wants_json = JSON_TYPE in self.headers.get("Accept", "")
            use_json = upstream.mode == "json" or (upstream.mode == "both" and wants_json)
            parts = [part for part in path.split("/") if part]
            if parts == ["simple"]:
                body = upstream.root_json() if use_json else upstream.root_html()
            elif len(parts) == 2 and parts[0] == "simple" and parts[1] in upstream.projects:
                body = upstream.project_json(parts[1]) if use_json else upstream.project_html(parts[1])
            else:
                self._send(404, b"not found", "text/plain")
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + upstream.etag_padding + '"'
            extra = {"ETag": etag}
            if upstream.serials:
                extra["X-PyPI-Last-Serial"] = str(upstream.serial)
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", JSON_TYPE if use_json else "text/html", extra)
                return
            self._send(200, body, JSON_TYPE if use_json else "text/html", extra)

        def _serve_file(self, path: str, *, head: bool) -> None:
            fake = next(
                (f for files in upstream.projects.values() for f in files if f.path == path),
                None,
            )
            if fake is None:
                self._send(404, b"not found", "text/plain")
                return
            with upstream.lock:
                fault = fake.faults.pop(0) if fake.faults else fake.always
            if head:
                self._send(200, fake.data, "application/octet-stream")
                return
            if fault.isdigit():
                self._send(int(fault), b"error", "text/plain")
                return
            data = fake.data
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            half = data[: len(data) // 2]
            if fault == "truncate":
                self.wfile.write(half)
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_WR)
            elif fault == "reset":
                self.wfile.write(half)
                self.wfile.flush()
                # SO_LINGER 0: close() sends a TCP reset instead of a clean end.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
            elif fault == "drip":
                self.wfile.write(data[:10])
                self.wfile.flush()
                time.sleep(upstream.drip_seconds)
                self.close_connection = True
            elif fault == "trickle":
                # Below any sane rate, yet every read gets a few bytes well within the read timeout.
                try:
                    for start in range(0, len(data), upstream.trickle_bytes):
                        self.wfile.write(data[start : start + upstream.trickle_bytes])
                        self.wfile.flush()
                        time.sleep(upstream.trickle_interval)
                except OSError:
                    pass
                self.close_connection = True
            elif fault == "slow":
                # Within the read timeout, but slow enough to be killed in the middle.
                for start in range(0, len(data), 512):
                    self.wfile.write(data[start : start + 512])
                    self.wfile.flush()
                    time.sleep(0.05)
            else:
                self.wfile.write(data)

    return Handler


@pytest.fixture
def fake_upstream():
    upstream = FakeUpstream()
    yield upstream
    upstream.close()


@pytest.fixture(autouse=True)
def fast_sync_settings(settings):
    """Small timeouts and backoff, so fault tests stay fast."""
    settings.SYNC_CONNECT_TIMEOUT = 2
    settings.SYNC_READ_TIMEOUT = 0.5
    settings.SYNC_RETRIES = 2
    settings.SYNC_RETRY_BACKOFF = 0.01
    settings.SYNC_DOWNLOAD_WORKERS = 4
    settings.SYNC_INDEX_WORKERS = 4
    return settings


@pytest.fixture
def upstream_row(fake_upstream, db) -> Upstream:
    return upstream_add(name="fake", url=fake_upstream.url)


def store_files(root: Path) -> list[Path]:
    """Every regular file under MIRROR_ROOT/store except the lock files."""
    store = root / "store"
    if not store.exists():
        return []
    return sorted(p for p in store.rglob("*") if p.is_file() and not p.name.startswith(".lock"))


def assert_store_sound(root: Path) -> None:
    """The invariant: every stored row has its blob, every blob hashes to its name, no temp files left."""
    from sync.blobstore import blob_path
    from sync.models import File

    for file in File.objects.filter(state=File.State.STORED):
        path = blob_path(file.sha256)
        assert path.is_file(), f"{file.filename}: stored but no blob"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == file.sha256
        assert path.stat().st_size == file.size
    for path in store_files(root):
        if path.parent.name == "tmp":
            raise AssertionError(f"temporary file left behind: {path}")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name[:64], f"corrupt blob {path}"
