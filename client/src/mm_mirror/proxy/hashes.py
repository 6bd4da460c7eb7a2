"""The sha256 of every file the proxy's served pages list, so that a file can be checked before it is passed on.

Pages are PEP 503 HTML (`href="…#sha256=…"`, `data-core-metadata="sha256=…"`) or PEP 691 JSON
(`url`, `hashes.sha256`, `core-metadata.sha256`). Links are resolved against the page's own path, the way
an installer resolves them; keys are tree-relative paths, percent-decoded.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

HEX64 = re.compile(r"^[0-9a-f]{64}$")
# The published tree is content-addressed: packages/<aa>/<bb>/<sha256>/<filename>.
CONTENT_ADDRESSED = re.compile(r"^packages/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})/[^/]+$")


def tree_key(path: str) -> str:
    """A tree-relative path as a key: no query or fragment, percent-decoded."""
    return unquote(urlsplit(path).path).lstrip("/")


def _sha256_value(text: str | None) -> str | None:
    if not text:
        return None
    name, _, value = text.partition("=")
    value = value.strip().lower()
    return value if name.strip().lower() == "sha256" and HEX64.match(value) else None


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str | None, str | None]] = []  # (href without fragment, sha256, metadata sha256)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        values = dict(attrs)
        href = values.get("href") or ""
        if not href:
            return
        base, _, fragment = href.partition("#")
        metadata = _sha256_value(values.get("data-core-metadata") or values.get("data-dist-info-metadata"))
        self.found.append((base, _sha256_value(fragment), metadata))


def page_hashes(body: bytes, content_type: str) -> list[tuple[str, str | None, str | None]]:
    """(href, sha256, core-metadata sha256) of each file a project page lists."""
    if "json" in content_type:
        try:
            document = json.loads(body)
            found = []
            for file in document.get("files", []):
                sha = str((file.get("hashes") or {}).get("sha256", "")).lower()
                metadata = file.get("core-metadata") or file.get("dist-info-metadata")
                meta_sha = str(metadata.get("sha256", "")).lower() if isinstance(metadata, dict) else ""
                found.append(
                    (str(file["url"]), sha if HEX64.match(sha) else None, meta_sha if HEX64.match(meta_sha) else None)
                )
            return found
        except (ValueError, KeyError, TypeError, AttributeError):
            return []
    parser = _Anchors()
    try:
        parser.feed(body.decode("utf-8", "replace"))
        parser.close()
    except (ValueError, AssertionError):
        return []
    return parser.found


class HashBook:
    """Bounded map of tree path -> sha256, filled from pages, read before a file is passed on."""

    def __init__(self, limit: int = 500_000) -> None:
        self.limit = limit
        self.hashes: OrderedDict[str, str] = OrderedDict()
        self.lock = threading.Lock()

    def record_page(self, page_path: str, body: bytes, content_type: str) -> int:
        """Record a page served at tree path `page_path` (e.g. simple/greeter/); how many hashes."""
        base = "/" + page_path.lstrip("/")
        count = 0
        with self.lock:
            for href, sha, metadata in page_hashes(body, content_type):
                parts = urlsplit(href)
                if parts.scheme or parts.netloc:
                    continue  # a file elsewhere: not served through us
                key = tree_key(urljoin(base, href))
                for path, value in ((key, sha), (key + ".metadata", metadata)):
                    if value:
                        self.hashes[path] = value
                        self.hashes.move_to_end(path)
                        count += 1
            while len(self.hashes) > self.limit:
                self.hashes.popitem(last=False)
        return count

    def expected(self, path: str) -> str | None:
        """The sha256 a file must have: from a page served, or from its content-addressed path."""
        key = tree_key(path)
        with self.lock:
            value = self.hashes.get(key)
        if value:
            return value
        match = CONTENT_ADDRESSED.match(key)
        if match and not key.endswith(".metadata") and match.group(3).startswith(match.group(1) + match.group(2)):
            return match.group(3)
        return None
