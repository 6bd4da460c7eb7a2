"""PEP 691 content negotiation of the simple pages: which of a tree's two static files answers an Accept header.

One function, `simple_format`, used by the development view of /pub/ (metadata.views); docs/publishing.md
gives the nginx `map` that does the same for the common headers, and says where nginx cannot follow it.

The rules (RFC 9110 section 12.5.1, PEP 691):
- Each offered media type gets the quality of the most specific range that matches it (`type/subtype`,
  then `type/*`, then `*/*`); no match, or `q=0`, means "not acceptable".
- `application/vnd.pypi.simple.latest+json` / `+html` are aliases of the newest API version (v1 here).
- A form's quality is that of the most specific range matching any of its names. Of the acceptable
  forms the highest quality wins. On a tie a type the client named beats one it only matched by a
  wildcard; between two named ones JSON wins (a client that names both as equals reads JSON), between
  two wildcards HTML (`*/*` from a browser or curl).
- With no Accept header, or nothing acceptable, the answer is HTML: PEP 691 allows a server to answer
  with its default instead of 406, and browsers and PEP 503 clients expect HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SimpleFormat = Literal["json", "html"]

JSON_TYPE = "application/vnd.pypi.simple.v1+json"  # what a JSON page is sent as
HTML_TYPE = "text/html"  # what an HTML page is sent as (PEP 691's legacy name, shown by browsers)

# Every media type that names one of the two forms, as PEP 691 lists them.
OFFERED: dict[str, SimpleFormat] = {
    "application/vnd.pypi.simple.v1+json": "json",
    "application/vnd.pypi.simple.latest+json": "json",
    "application/vnd.pypi.simple.v1+html": "html",
    "application/vnd.pypi.simple.latest+html": "html",
    "text/html": "html",
}

MAX_ACCEPT_RANGES = 64  # an Accept header is a handful of ranges; a longer one is cut, not parsed for ever


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header."""

    type: str
    subtype: str
    quality: float

    def specificity(self, media_type: str) -> int:
        """How specifically this range matches `media_type`: 3 exact, 2 `type/*`, 1 `*/*`, 0 not at all."""
        type_, _, subtype = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 1
        if self.type != type_:
            return 0
        if self.subtype == "*":
            return 2
        return 3 if self.subtype == subtype else 0


def _quality(value: str) -> float:
    try:
        quality = float(value)
    except ValueError:
        return 0.0  # an unreadable q is not a promise to accept
    return min(max(quality, 0.0), 1.0) if quality == quality else 0.0  # NaN


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header, with their qualities (1 when not given)."""
    ranges = []
    for entry in header.split(",")[:MAX_ACCEPT_RANGES]:
        media, *params = (part.strip() for part in entry.split(";"))
        type_, slash, subtype = media.lower().partition("/")
        if not slash or not type_ or not subtype:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                quality = _quality(value.strip())
        ranges.append(MediaRange(type_, subtype, quality))
    return ranges


def simple_format(accept: str | None) -> SimpleFormat:
    """Which form of a simple page answers this Accept header: "json" or "html" (see the module's rules)."""
    if not accept:
        return "html"
    ranges = parse_accept(accept)
    ranked: list[tuple[float, int, int, SimpleFormat]] = []
    for form in ("json", "html"):
        # A form's quality is that of the most specific range matching any of its names (an exact
        # `v1+json;q=0` is not undone by `*/*` matching the `latest+json` alias).
        names = [media_type for media_type, offered in OFFERED.items() if offered == form]
        specificity, quality = max(((r.specificity(n), r.quality) for r in ranges for n in names), default=(0, 0.0))
        if specificity == 0 or quality <= 0:
            continue
        named = specificity == 3
        # Ties: a named type beats a wildcard; between named types JSON wins, between wildcards HTML.
        preferred = (form == "json") if named else (form == "html")
        ranked.append((quality, int(named), int(preferred), form))
    return max(ranked)[3] if ranked else "html"
