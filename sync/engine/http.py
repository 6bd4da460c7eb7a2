"""Reading from an upstream: index pages and file bodies, over http(s) or from a file:// tree.

One pooled keep-alive client (urllib3) is shared by every thread. No retries here: callers retry
with backoff (see retrying) and decide what is worth retrying.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

from sync.engine.index import PEP691_HTML, PEP691_JSON
from sync.engine.netguard import AddressPolicy, AddressRefused, RequestWatch, Watchdog, guarded_pool_manager

ACCEPT_INDEX = f"{PEP691_JSON}, {PEP691_HTML};q=0.2, text/html;q=0.01"
USER_AGENT = "mirrormanager-sync/0.1"
FILL_SECONDS = 0.25  # a body read returns at least this often (see _read_some)
T = TypeVar("T")


class FetchError(Exception):
    """A request that did not give a usable answer; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


@dataclass(frozen=True)
class Page:
    """An index page, or a note that it has not changed (status 304)."""

    url: str  # after redirects: relative links resolve against it
    status: int
    body: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""
    serial: int | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True)
class Limits:
    """Timeouts and caps of one client."""

    connect_timeout: float = 10
    read_timeout: float = 60
    max_index_bytes: int = 64 * 1024 * 1024
    max_file_bytes: int = 8 * 1024**3
    retries: int = 3
    backoff: float = 0.5
    # A body must average at least this many bytes/s once read_timeout seconds have passed (0 = off):
    # a drip that never stalls a whole read timeout would otherwise hold a worker for ever.
    min_rate_bytes: int = 10 * 1024
    # Every request, headers and body, is given up after this many seconds (the watchdog).
    request_deadline: float = 900
    run_deadline: float | None = None  # a time.monotonic() instant the whole run must end by
    max_links_per_page: int = 50_000
    max_archive_members: int = 100_000

    def deadline(self) -> float:
        """When a request started now must be done by (its own deadline, or the run's if sooner)."""
        own = time.monotonic() + self.request_deadline
        return own if self.run_deadline is None else min(own, self.run_deadline)


def _serial(value: str | None) -> int | None:
    """A serial header; None unless it is a non-negative integer that fits a BigIntegerField."""
    try:
        serial = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    return serial if serial is not None and 0 <= serial < 2**63 else None


def retrying(limits: Limits, call: Callable[[], T], *, cancelled: Callable[[], bool] = lambda: False) -> T:
    """Run call(); on a retryable FetchError try again with exponential backoff and jitter."""
    attempt = 0
    while True:
        try:
            return call()
        except FetchError as error:
            if not error.retryable or attempt >= limits.retries or cancelled():
                raise
            delay = limits.backoff * (2**attempt)
            time.sleep(delay + random.uniform(0, delay / 2))
            attempt += 1


class Body:
    """A file body being read: its declared length, if any, and a readinto of big chunks."""

    def __init__(self, readinto: Callable[[memoryview], int], length: int | None) -> None:
        self.readinto = readinto
        self.length = length


def file_tree_root(url: str) -> Path:
    """The directory a file:// upstream may read from: the tree holding its simple/ directory.

    file:///srv/index/simple/ -> /srv/index (the files usually sit beside simple/).
    """
    path = Path(os.path.normpath(url2pathname(urlsplit(url).path)))
    return path.parent if path.name == "simple" else path


class Client:
    """The sync's client: http(s) through one urllib3 pool, file:// from the local disk.

    local_roots: the only directories file:// URLs may read from (None = anywhere, for callers that
    read no upstream-supplied URLs). Checked after unquoting, so %2e%2e cannot climb out.
    """

    def __init__(
        self,
        limits: Limits,
        *,
        pool_size: int = 16,
        local_roots: tuple[Path, ...] | None = None,
        policy: AddressPolicy | None = None,
    ) -> None:
        self.limits = limits
        # Resolved: a symlink in the tree must not lead out of it (nor a root given through one).
        self.local_roots = (
            tuple(Path(os.path.realpath(root)) for root in local_roots) if local_roots is not None else None
        )
        self._watchdog = Watchdog()
        self._http = guarded_pool_manager(
            policy or AddressPolicy(),
            self._watchdog,
            num_pools=8,
            maxsize=pool_size,
            block=False,
            timeout=urllib3.Timeout(connect=limits.connect_timeout, read=limits.read_timeout),
            retries=urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=5),
            headers={"User-Agent": USER_AGENT},
        )

    def close(self) -> None:
        self._http.clear()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- index pages ----------------------------------------------------------------------------

    @contextmanager
    def _watched(self, url: str) -> Iterator[RequestWatch]:
        """One request under its deadline: a FetchError after the watchdog fired says so, and is final."""
        with self._watchdog.request(self.limits.deadline()) as watch:
            late = FetchError(
                f"{url}: gave up, the request took longer than its deadline "
                f"(SYNC_REQUEST_DEADLINE={self.limits.request_deadline:g} s, or the run's)",
                retryable=False,
            )
            try:
                yield watch
            except AddressRefused as error:
                raise FetchError(f"{url}: {error}", retryable=False, status=403) from error
            except FetchError as error:
                if watch.expired():
                    raise late from error
                raise
            if watch.expired():  # a body cut short by the watchdog may look complete
                raise late

    def get_page(self, url: str, *, etag: str = "", last_modified: str = "") -> Page:
        """GET an index page, conditionally when validators are given; capped at max_index_bytes."""
        if urlsplit(url).scheme == "file":
            return self._file_page(url, etag=etag)
        with self._watched(url):
            return self._http_page(url, etag=etag, last_modified=last_modified)

    def _http_page(self, url: str, *, etag: str, last_modified: str) -> Page:
        headers = {"Accept": ACCEPT_INDEX, "Accept-Encoding": "gzip"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            response = self._http.request("GET", url, headers=headers, preload_content=False)
        except Urllib3Error as error:
            raise FetchError(f"{url}: {_describe(error)}", retryable=True) from error
        try:
            status = response.status
            # urllib3 gives the final location after redirects, possibly as a bare path.
            final_url = urljoin(url, response.url) if response.url else url
            if status == 304:
                return Page(url=final_url, status=304, etag=etag, last_modified=last_modified)
            _raise_for_status(url, status)
            declared = _content_length(response.headers)
            cap = self.limits.max_index_bytes
            if declared is not None and declared > cap:
                raise FetchError(f"{url}: index page of {declared} bytes exceeds the cap of {cap}", retryable=False)
            chunks: list[bytes] = []
            total = 0
            try:
                for chunk in response.stream(256 * 1024, decode_content=True):
                    total += len(chunk)
                    if total > cap:
                        raise FetchError(f"{url}: index page exceeds the cap of {cap} bytes", retryable=False)
                    chunks.append(chunk)
            except (Urllib3Error, OSError) as error:
                raise FetchError(f"{url}: {_describe(error)}", retryable=True) from error
            headers_in = response.headers
            return Page(
                url=final_url,
                status=status,
                body=b"".join(chunks),
                content_type=headers_in.get("Content-Type", ""),
                etag=headers_in.get("ETag", ""),
                last_modified=headers_in.get("Last-Modified", ""),
                serial=_serial(headers_in.get("X-PyPI-Last-Serial")),
            )
        finally:
            response.release_conn()

    def _file_page(self, url: str, *, etag: str) -> Page:
        path = self._local_path(url)
        if path.is_dir():
            json_path = path / "index.json"
            path = self._inside(url, json_path if json_path.is_file() else path / "index.html")
        try:
            stat = path.stat()
        except OSError as error:
            raise FetchError(f"{url}: {error.strerror or error}", retryable=False, status=404) from error
        validator = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        if etag and etag == validator:
            return Page(url=url, status=304, etag=etag)
        if stat.st_size > self.limits.max_index_bytes:
            raise FetchError(
                f"{url}: index page of {stat.st_size} bytes exceeds the cap of {self.limits.max_index_bytes}",
                retryable=False,
            )
        with path.open("rb") as handle:
            self._check_open(url, handle)
            body = handle.read(self.limits.max_index_bytes + 1)
        if len(body) > self.limits.max_index_bytes:
            raise FetchError(
                f"{url}: index page exceeds the cap of {self.limits.max_index_bytes} bytes", retryable=False
            )
        content_type = PEP691_JSON if path.suffix == ".json" else "text/html"
        return Page(url=url, status=200, body=body, content_type=content_type, etag=validator)

    # -- file bodies ----------------------------------------------------------------------------

    def body_size(self, url: str) -> int | None:
        """The size of a file by a HEAD request (or stat for file://); None when it cannot be told."""
        try:
            if urlsplit(url).scheme == "file":
                return self._local_path(url).stat().st_size
            with self._watched(url):
                response = self._http.request("HEAD", url, headers={"Accept-Encoding": "identity"})
        except (OSError, FetchError, Urllib3Error):
            return None
        if response.status != 200:
            return None
        return _content_length(response.headers)

    @contextmanager
    def open_body(self, url: str) -> Iterator[Body]:
        """Open a file body for streaming; FetchError on a bad status or a network error."""
        if urlsplit(url).scheme == "file":
            path = self._local_path(url)
            try:
                handle: BinaryIO = path.open("rb", buffering=0)
            except OSError as error:
                raise FetchError(f"{url}: {error.strerror or error}", retryable=False, status=404) from error
            with handle:
                self._check_open(url, handle)
                yield Body(handle.readinto, os.fstat(handle.fileno()).st_size)
            return
        with self._watched(url):
            with self._http_body(url) as body:
                yield body

    @contextmanager
    def _http_body(self, url: str) -> Iterator[Body]:
        try:
            response = self._http.request(
                "GET", url, headers={"Accept-Encoding": "identity"}, preload_content=False, decode_content=False
            )
        except Urllib3Error as error:
            raise FetchError(f"{url}: {_describe(error)}", retryable=True) from error
        complete = False
        try:
            _raise_for_status(url, response.status)
            raw = getattr(response, "_fp", None)
            # urllib3's read(amt) copies every chunk through an internal buffer; the underlying
            # http.client response can read straight into ours. Its readinto would block until the
            # whole buffer is full, though, so a slow drip would never come back to the caller's
            # minimum-rate check: read_some returns after one system call with whatever arrived.
            readinto = _read_some(raw) if raw is not None else None
            if readinto is None:

                def readinto(buffer: memoryview) -> int:
                    data = response.read1(len(buffer))
                    buffer[: len(data)] = data
                    return len(data)

            def guarded(buffer: memoryview) -> int:
                try:
                    return readinto(buffer)
                except (Urllib3Error, OSError) as error:
                    raise FetchError(f"{url}: {_describe(error)}", retryable=True) from error
                except Exception as error:  # http.client.IncompleteRead and friends
                    raise FetchError(f"{url}: {_describe(error)}", retryable=True) from error

            yield Body(guarded, _content_length(response.headers))
            complete = True
        finally:
            if complete and (raw is None or raw.isclosed()):
                response.release_conn()
            else:
                # Never hand a half-read connection back to the pool.
                response.close()
                if response.connection is not None:
                    response.connection.close()
                response.release_conn()

    def _local_path(self, url: str) -> Path:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise FetchError(f"{url}: file URLs must be local", retryable=False)
        return self._inside(url, Path(url2pathname(parts.path)))

    def _inside(self, url: str, path: Path) -> Path:
        """The path with every symlink resolved; FetchError when that is outside the upstream's tree."""
        resolved = Path(os.path.realpath(path))
        if self.local_roots is not None and not any(resolved.is_relative_to(root) for root in self.local_roots):
            raise FetchError(f"{url}: outside the upstream's directory, refused", retryable=False, status=403)
        return resolved

    def _check_open(self, url: str, handle: BinaryIO) -> None:
        """The file opened is inside the tree too (a link swapped in after the check is caught here)."""
        try:
            opened = os.readlink(f"/proc/self/fd/{handle.fileno()}")
        except OSError:
            return  # no /proc: the check before opening stands alone
        self._inside(url, Path(opened))


def _read_some(raw: http.client.HTTPResponse) -> Callable[[memoryview], int] | None:
    """A readinto for an http.client response that does at most one system call (None: not possible).

    For a body with a Content-Length (not chunked), readinto1 of the buffered socket reads straight
    into our buffer, one system call at a time; the response's length is kept as its own readinto
    keeps it, so it ends (and the connection may go back to the pool) when the body is complete.
    """
    fp = getattr(raw, "fp", None)
    if not isinstance(raw, http.client.HTTPResponse) or raw.chunked or raw.length is None or fp is None:
        return None
    if not hasattr(fp, "readinto1"):
        return None

    def read_once(buffer: memoryview) -> int:
        if raw.fp is None or not raw.length:
            raw.read()  # ends the response
            return 0
        if len(buffer) > raw.length:
            buffer = buffer[: raw.length]
        count = raw.fp.readinto1(buffer)
        if not count:
            raw.close()  # the peer closed early: the caller sees a short body
            return 0
        raw.length -= count
        if not raw.length:
            raw.read()  # complete: ends the response
        return count

    def readinto(buffer: memoryview) -> int:
        # Big chunks while data flows (fewer, larger hash updates), but back to the caller within
        # FILL_SECONDS (plus one read timeout) however slowly it comes.
        started = time.monotonic()
        filled = 0
        while filled < len(buffer):
            count = read_once(buffer[filled:])
            if not count:
                break
            filled += count
            if time.monotonic() - started > FILL_SECONDS:
                break
        return filled

    return readinto


def _content_length(headers: object) -> int | None:
    value = headers.get("Content-Length")  # type: ignore[attr-defined]
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _raise_for_status(url: str, status: int) -> None:
    if 200 <= status < 300:
        return
    retryable = status >= 500 or status in (408, 425, 429)
    raise FetchError(f"{url}: HTTP {status}", retryable=retryable, status=status)


def _describe(error: BaseException) -> str:
    name = type(error).__name__
    reason = getattr(error, "reason", None)
    if reason is not None:
        return f"{name}: {reason}"
    return f"{name}: {error}" if str(error) else name
