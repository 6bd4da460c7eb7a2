"""HTML index pages read in pieces: anchors and <base href>, under a budget of links."""

from __future__ import annotations

import codecs
from html.parser import HTMLParser

HTML_FEED_CHARS = 256 * 1024  # a page is parsed in pieces, so that a link budget stops it early


class IndexFormatError(ValueError):
    """A page that is not a simple index we can read."""


def feed_html(parser: AnchorParser, body: bytes, *, max_links: int | None) -> None:
    """Parse an HTML page in pieces; IndexFormatError as soon as it passes max_links anchors."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    view = memoryview(body)
    for start in range(0, len(body), HTML_FEED_CHARS):
        parser.feed(decoder.decode(view[start : start + HTML_FEED_CHARS]))
        if max_links is not None and len(parser.anchors) > max_links:
            raise IndexFormatError(f"more than {max_links} links on the page (SYNC_MAX_LINKS_PER_PAGE), refused")
    parser.feed(decoder.decode(b"", final=True))
    parser.close()
    if max_links is not None and len(parser.anchors) > max_links:
        raise IndexFormatError(f"more than {max_links} links on the page (SYNC_MAX_LINKS_PER_PAGE), refused")


class AnchorParser(HTMLParser):
    """Collects <a> tags (their attributes, or only those in `keep`, and their text) and <base href>."""

    def __init__(self, keep: tuple[str, ...] | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.keep = keep
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self.base_href: str | None = None
        self._current: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.base_href is None:
            self.base_href = dict(attrs).get("href")
        elif tag == "a":
            self._finish()
            self._current = dict(attrs) if self.keep is None else {k: v for k, v in attrs if k in self.keep}
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._finish()

    def close(self) -> None:
        super().close()
        self._finish()

    def _finish(self) -> None:
        if self._current is not None:
            self.anchors.append((self._current, "".join(self._text)))
            self._current = None
