"""Reading published pages in tests: the anchors (and meta tags) of a simple index page."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path


class Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[dict, str]] = []
        self._current: dict | None = None
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._current = dict(attrs)
        if tag == "meta":
            attrs = dict(attrs)
            self.meta[attrs.get("name", "")] = attrs.get("content", "")

    def handle_data(self, data):
        if self._current is not None:
            self.anchors.append((self._current, data))
            self._current = None


def parse(path: Path) -> Anchors:
    parser = Anchors()
    parser.feed(path.read_text())
    return parser


def anchors(data: bytes) -> list[tuple[dict, str]]:
    parser = Anchors()
    parser.feed(data.decode())
    return parser.anchors
