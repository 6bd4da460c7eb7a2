"""mm_mirror.mirrorlist: the metalink and JSON answers, the fallback between them, the disk cache."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest
from mm_mirror import mirrorlist
from mm_mirror.errors import OriginError
from mm_mirror.mirrorlist import MirrorlistCache, MirrorlistError, parse_json, parse_metalink

from tests.client.servers import Listing, listing_json, metalink_xml, origin_server, running

REPOMD = json.dumps({"version": 1, "revision": 7, "data": {}}).encode()
OLD = json.dumps({"version": 1, "revision": 6, "data": {}}).encode()
MIRRORS = ["http://127.0.0.1:1/full/", "https://mirror.example.org/pypi/full", "rsync://mirror.example.org/full/"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_metalink_gives_mirrors_by_priority_and_the_allowed_hashes():
    listing = parse_metalink(metalink_xml("full", Listing(MIRRORS, REPOMD, recent=[OLD])), "full")
    assert [m.url for m in listing.mirrors] == ["http://127.0.0.1:1/full/", "https://mirror.example.org/pypi/full/"]
    assert listing.repomd_sha256 == sha(REPOMD)
    assert listing.recent_repomd_sha256 == [sha(OLD)]
    assert listing.allowed == {sha(REPOMD), sha(OLD)}
    assert listing.revision == 7
    assert listing.repomd_size == len(REPOMD)
    assert listing.mirrors[0].index_url == "http://127.0.0.1:1/full/simple/"


def test_the_json_answer_gives_the_same():
    listing = parse_json(listing_json("full", Listing(MIRRORS, REPOMD, recent=[OLD])))
    assert [m.url for m in listing.mirrors] == ["http://127.0.0.1:1/full/", "https://mirror.example.org/pypi/full/"]
    assert listing.allowed == {sha(REPOMD), sha(OLD)}
    assert listing.revision == 7


@pytest.mark.parametrize(
    "document",
    [
        b"not xml",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><metalink xmlns="urn:ietf:params:xml:ns:metalink"/>',
        b'<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="other"/></metalink>',
        b'<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="repomd.json"><hash type="md5">x</hash>'
        b"</file></metalink>",
        b'<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="repomd.json"><hash type="sha-256">zz</hash>'
        b"</file></metalink>",
        b"<other/>",
    ],
)
def test_bad_metalinks_are_refused(document):
    with pytest.raises(MirrorlistError):
        parse_metalink(document, "full")


def test_nothing_published_yet_says_so():
    document = b'{"collection": "full", "revision": null, "repomd_sha256": null, "mirrors": []}'
    with pytest.raises(MirrorlistError, match="no published revision yet"):
        parse_json(document)


@pytest.mark.parametrize("document", [b"{}", b"[]", b'{"collection": "full", "revision": 1, "repomd_sha256": "x"}'])
def test_bad_json_is_refused(document):
    with pytest.raises(MirrorlistError):
        parse_json(document)


def test_fetch_falls_back_to_json_and_the_cache_serves_when_the_origin_is_down(tmp_path):
    cache = MirrorlistCache(tmp_path / "cache")
    messages = []
    listings = {"full": Listing(MIRRORS[:1], REPOMD, metalink=False)}
    with running(origin_server(listings)) as origin:
        listing = mirrorlist.load(origin.url, "full", cache=cache, timeout=5, log=messages.append)
        assert "/api/v1/mirrorlist/full/?format=metalink" in origin.requests
        assert "/api/v1/mirrorlist/full/?format=json" in origin.requests
        assert listing.source == "origin" and listing.repomd_sha256 == sha(REPOMD)
        with pytest.raises(OriginError, match="HTTP 404: .*no such collection"):
            mirrorlist.load(origin.url, "other", cache=cache, timeout=5)
        # An unknown collection is the origin's answer, not an outage: the cache does not hide it.
        cache.store(origin.url, replace(listing, collection="other"))
        with pytest.raises(OriginError, match="HTTP 404"):
            mirrorlist.load(origin.url, "other", cache=cache, timeout=5)
    # The origin is gone: the cache answers, and says how old it is.
    cached = mirrorlist.load(origin.url, "full", cache=cache, timeout=2, log=messages.append)
    assert cached.source == "cache"
    assert cached.mirrors == listing.mirrors and cached.allowed == listing.allowed
    assert cached.age() < 60
    assert "using the cached mirrorlist" in messages[-1]
