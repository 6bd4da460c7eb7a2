import json
import random
import xml.etree.ElementTree as ET

from mirrors.mirrorlist.engine.render import (
    METALINK_NS,
    MIRRORMANAGER_NS,
    render_json,
    render_metalink,
    render_txt,
    selection_document,
)
from mirrors.mirrorlist.engine.select import Query, select_mirrors

from .helpers import ALTERNATES, CURRENT, client, host, table, url

NS = {"ml": METALINK_NS, "mm": MIRRORMANAGER_NS}


def _selection():
    a, b = host("a.example.org", bandwidth=500), host("b.example.org", country="FR")
    tbl = table([a, b], [url(a), url(b)])
    return tbl, select_mirrors(
        tbl, tbl.collections["full"], client("192.0.2.7", country="DE", continent="EU", asn=64500), Query(),
        rng=random.Random(1), origin_url="https://origin.example/pub/full/",
    )  # fmt: skip


def test_json_shape():
    tbl, selection = _selection()
    document = json.loads(render_json(selection_document(selection, table_version=tbl.version, explain=False)))
    assert document["collection"] == "full" and document["revision"] == 42 and document["repomd_sha256"] == "a" * 64
    assert document["client"] == {"ip": "192.0.2.7", "country": "DE", "continent": "EU", "asn": 64500}
    assert document["mirrors"][0] == {
        "url": "https://a.example.org/pypi/full/", "host": "a.example.org", "country": "DE", "tier": "country"
    }  # fmt: skip
    assert document["mirrors"][-1]["tier"] == "origin" and "excluded" not in document
    assert document["recent_repomd_sha256"] == ["b" * 64] and document["repomd_size"] == CURRENT.size


def test_txt_is_one_url_a_line():
    _tbl, selection = _selection()
    assert render_txt(selection).decode().splitlines() == [entry.url for entry in selection.mirrors]


def test_metalink_follows_rfc5854():
    tbl, selection = _selection()
    root = ET.fromstring(render_metalink(selection, table_version=tbl.version))
    assert root.tag == f"{{{METALINK_NS}}}metalink"
    files = root.findall("ml:file", NS)
    assert len(files) == 1 and files[0].get("name") == "repomd.json"
    file = files[0]
    assert file.find("ml:size", NS).text == str(CURRENT.size)
    hash_ = file.find("ml:hash", NS)
    assert hash_.get("type") == "sha-256" and hash_.text == CURRENT.sha256
    urls = file.findall("ml:url", NS)
    assert [u.text for u in urls] == [entry.url + "repodata/repomd.json" for entry in selection.mirrors]
    priorities = [int(u.get("priority")) for u in urls]
    assert priorities == list(range(1, len(urls) + 1)) and all(1 <= p <= 999999 for p in priorities)
    assert [u.get(f"{{{MIRRORMANAGER_NS}}}tier") for u in urls] == [entry.tier for entry in selection.mirrors]
    alternates = file.findall("mm:alternates/mm:alternate", NS)
    assert [(a.get("revision"), a.find("ml:hash", NS).text) for a in alternates] == [
        (str(rev.number), rev.sha256) for rev in ALTERNATES
    ]
    assert root.find("ml:published", NS).text == CURRENT.timestamp


def test_fast_json_is_byte_identical():
    from mirrors.mirrorlist.engine.render import render_json_fast

    tbl, selection = _selection()
    slow = render_json(selection_document(selection, table_version=tbl.version, explain=False))
    assert render_json_fast(selection, table_version=tbl.version) == slow
