"""mm_mirror.proxy.hashes: the hashes a page promises, resolved the way installers resolve links."""

from __future__ import annotations

import json

from mm_mirror.proxy.hashes import HashBook, page_hashes

A, B, C = "a" * 64, "b" * 64, "c" * 64
LOCATION = f"packages/{C[:2]}/{C[2:4]}/{C}/demo-1.0-py3-none-any.whl"


def test_html_and_json_pages_give_the_same_hashes():
    html = (
        f'<a href="../../packages/x/demo-1.0.tar.gz#sha256={A}">demo-1.0.tar.gz</a>'
        f'<a href="../../packages/y/demo-1.0-py3-none-any.whl#sha256={B}" data-core-metadata="sha256={C}">w</a>'
        '<a href="../../packages/z/no-hash.zip">n</a>'
    ).encode()
    document = {
        "files": [
            {"url": "../../packages/x/demo-1.0.tar.gz", "hashes": {"sha256": A}, "core-metadata": False},
            {
                "url": "../../packages/y/demo-1.0-py3-none-any.whl",
                "hashes": {"sha256": B},
                "core-metadata": {"sha256": C},
            },
            {"url": "../../packages/z/no-hash.zip", "hashes": {}},
        ]
    }
    expected = [
        ("../../packages/x/demo-1.0.tar.gz", A, None),
        ("../../packages/y/demo-1.0-py3-none-any.whl", B, C),
        ("../../packages/z/no-hash.zip", None, None),
    ]
    assert page_hashes(html, "text/html") == expected
    assert page_hashes(json.dumps(document).encode(), "application/vnd.pypi.simple.v1+json") == expected
    assert page_hashes(b"{broken", "application/vnd.pypi.simple.v1+json") == []


def test_the_book_resolves_links_against_the_page_and_decodes_them():
    book = HashBook()
    page = f'<a href="../../packages/x/demo%2B1.0.tar.gz#sha256={A}">d</a><a href="https://elsewhere.example/f#sha256={B}">e</a>'
    assert book.record_page("simple/demo/", page.encode(), "text/html") == 1
    assert book.expected("packages/x/demo+1.0.tar.gz") == A
    assert book.expected("packages/x/demo%2B1.0.tar.gz?x=1") == A
    assert book.expected("packages/x/other.tar.gz") is None


def test_content_addressed_paths_carry_their_own_hash_but_metadata_does_not():
    book = HashBook()
    assert book.expected(LOCATION) == C
    assert book.expected(LOCATION + ".metadata") is None
    assert book.expected(f"packages/zz/{C[2:4]}/{C}/demo.whl") is None  # folders that do not match the hash


def test_the_book_is_bounded():
    book = HashBook(limit=2)
    for n in range(3):
        book.record_page("simple/p/", f'<a href="f{n}#sha256={A}">x</a>'.encode(), "text/html")
    assert book.expected("simple/p/f0") is None and book.expected("simple/p/f2") == A
