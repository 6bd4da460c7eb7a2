"""PEP 691 negotiation (metadata.negotiation): q-values, the `latest` alias, wildcards, junk."""

from __future__ import annotations

import pytest

from metadata.negotiation import simple_format

JSON = "application/vnd.pypi.simple.v1+json"
PIP = f"{JSON}, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "html"),
        ("", "html"),
        (PIP, "json"),
        (JSON, "json"),
        (f"{JSON};q=0, text/html", "html"),
        (f"{JSON}; q=0.0, text/html", "html"),
        (f"{JSON};q=0", "html"),  # nothing acceptable: the default
        ("application/vnd.pypi.simple.latest+json", "json"),
        ("application/vnd.pypi.simple.latest+json, text/html;q=0.5", "json"),
        ("application/vnd.pypi.simple.latest+html", "html"),
        (f"text/html, {JSON};q=0.5", "html"),
        (f"text/html;q=0.5, {JSON};q=0.9", "json"),
        (f"{JSON}, text/html", "json"),  # equals: JSON
        ("*/*", "html"),
        (f"*/*, {JSON}", "json"),
        (f"{JSON};q=0.5, */*", "html"),  # a wildcard at 1 beats JSON at 0.5
        ("application/*", "html"),  # matches v1+json and v1+html alike: a wildcard tie
        ("text/*", "html"),
        (f"{JSON};q=banana, text/html;q=0.1", "html"),
        (f"{JSON};q=nan", "html"),
        ("garbage, ;;;, /, text", "html"),
        ("APPLICATION/VND.PYPI.SIMPLE.V1+JSON", "json"),
        (f"{JSON};q=2", "json"),
    ],
)
def test_simple_format(accept, expected):
    assert simple_format(accept) == expected


def test_a_huge_header_is_cut_not_parsed_for_ever():
    assert simple_format("text/plain, " * 100_000 + JSON) == "html"
