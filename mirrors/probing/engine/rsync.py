"""rsync URLs, read with the rsync client under the same limits as http: --contimeout, --timeout, --max-size.

The host name is resolved and checked by the request-forgery guard, and rsync is pointed at the checked
address (an rsync daemon does not care which name it was reached by), so a second lookup cannot change
where it goes. A listing of repodata/ comes first (repomd.json must be there and under the cap), then the
file is copied into a temporary directory and read.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from core.net import guard
from core.net.guard import FetchFailed, FetchRefused
from mirrors.probing.engine.transport import Digest, Got
from mirrors.probing.engine.types import ProbeLimits

RSYNC_PORT = 873
_LISTING = re.compile(r"^(?P<mode>[-dlrwxsStT]{10})\s+(?P<size>[\d,.]+)\s+\S+\s+\S+\s+(?P<name>.+)$")
_LOCAL_PATH = re.compile(re.escape(tempfile.gettempdir()) + r"/\S*")
_MISSING = ("No such file or directory", "failed: No such file", "does not exist")


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    is_file: bool


def checked_rsync_base(url: str, *, family: int, allow_private: bool) -> str:
    """The rsync:// base URL with its host replaced by a checked address of the wanted family."""
    parts = urlsplit(url)
    if parts.scheme != "rsync":
        raise FetchRefused(f"not an rsync URL: {url}")
    if parts.username or parts.password:
        raise FetchRefused("URLs with a user name or password are not fetched")
    host = parts.hostname or ""
    if not host:
        raise FetchRefused(f"the URL has no host name: {url!r}")
    port = parts.port or RSYNC_PORT
    addresses = guard.resolve(host, port, family)
    for address in addresses:
        if not guard.address_allowed(address, allow_private=allow_private):
            raise FetchRefused(f"{host} resolves to {address}, a private or special address; not fetched")
    address = addresses[0]
    shown = f"[{address}]" if ":" in address else address
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"rsync://{shown}:{port}{path}"


class RsyncTransport:
    """Reads one tree over rsync; every call is one rsync process with the probe's limits."""

    def __init__(self, url: str, *, family: int, limits: ProbeLimits, deadline: float) -> None:
        self.url = url
        self.family = family
        self.limits = limits
        self.deadline = deadline
        self._base: str | None = None

    @property
    def base(self) -> str:
        if self._base is None:
            self._base = checked_rsync_base(self.url, family=self.family, allow_private=self.limits.allow_private)
        return self._base

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise FetchFailed("gave up: the overall time limit ran out")
        command = [
            "rsync",
            "--no-motd",
            f"--contimeout={max(1, round(self.limits.connect_timeout))}",
            f"--timeout={max(1, round(self.limits.read_timeout))}",
        ]
        if self.family in (4, 6):
            command.append(f"-{self.family}")
        try:
            return subprocess.run(command + args, capture_output=True, text=True, timeout=left, check=False)
        except subprocess.TimeoutExpired as error:
            raise FetchFailed(f"no answer from {self.url} within the time limit") from error
        except FileNotFoundError as error:
            raise FetchFailed("the rsync client is not installed on the origin") from error

    def _failure(self, result: subprocess.CompletedProcess[str]) -> FetchFailed:
        # Findings are shown on public pages: never a path of this machine (rsync names its temp files).
        text = _LOCAL_PATH.sub("…", " ".join(result.stderr.split()))[:300]
        if result.returncode in (30, 35):
            return FetchFailed(f"no answer from {self.url} within {self.limits.read_timeout:g} s")
        if result.returncode == 10:
            return FetchFailed(f"could not connect to the rsync daemon of {self.url}: {text}")
        return FetchFailed(f"rsync failed (exit code {result.returncode}): {text}")

    def list(self, directory: str) -> dict[str, Entry] | None:
        """The entries of a directory of the tree (None when it does not exist)."""
        result = self._run(["--list-only", self.base + directory.rstrip("/") + "/"])
        if result.returncode == 23 and any(marker in result.stderr for marker in _MISSING):
            return None
        if result.returncode != 0:
            raise self._failure(result)
        entries: dict[str, Entry] = {}
        for line in result.stdout.splitlines():
            match = _LISTING.match(line.strip())
            if match and match["name"] != ".":
                size = int(re.sub(r"[,.]", "", match["size"]))
                entries[match["name"]] = Entry(match["name"], size, match["mode"].startswith("-"))
        return entries

    def _copy(self, path: str, max_bytes: int, into: Path) -> Path | None:
        """Copy one file into a directory; None when the mirror does not have it."""
        result = self._run([f"--max-size={max_bytes}", "--copy-links", self.base + path, str(into) + "/"])
        if result.returncode == 23 and any(marker in result.stderr for marker in _MISSING):
            return None
        if result.returncode != 0:
            raise self._failure(result)
        copied = into / PurePosixPath(path).name
        if not copied.exists():
            # rsync skips a file over --max-size without an error.
            raise FetchRefused(f"{path} is more than the {max_bytes} bytes allowed")
        return copied

    def get(self, path: str, *, max_bytes: int) -> Got:
        directory, _, name = path.rpartition("/")
        entries = self.list(directory)
        if entries is None or name not in entries or not entries[name].is_file:
            return Got(404)
        if entries[name].size > max_bytes:
            raise FetchRefused(f"{path} is {entries[name].size} bytes, more than the {max_bytes} allowed")
        with tempfile.TemporaryDirectory(prefix="mm-probe-") as temp:
            copied = self._copy(path, max_bytes, Path(temp))
            return Got(404) if copied is None else Got(200, copied.read_bytes())

    def digest(self, path: str, *, max_bytes: int) -> Digest:
        with tempfile.TemporaryDirectory(prefix="mm-probe-") as temp:
            copied = self._copy(path, max_bytes, Path(temp))
            if copied is None:
                return Digest(404)
            hasher = hashlib.sha256()
            with copied.open("rb") as handle:
                while chunk := handle.read(1024 * 1024):
                    hasher.update(chunk)
            return Digest(200, hasher.hexdigest(), copied.stat().st_size)
