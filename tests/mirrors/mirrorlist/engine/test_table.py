import json
import zlib

import pytest

from mirrors.mirrorlist.engine.table import SnapshotError, Table

from .helpers import host, table, url


def test_round_trip_keeps_everything():
    a = host("a.example.org", asn=64500, peers=[64501], allowed=["DE"], lat=50.0, lon=8.0)
    b = host("b.example.org", private=True)
    original = table([a, b], [url(a), url(b, "rsync"), url(a, "http", excluded="pending")],
                     netblocks=[("192.0.2.0/24", b), ("2001:db8::/48", b)], redirects={"IL": "EU"})  # fmt: skip
    loaded = Table.from_bytes(original.to_bytes())
    assert loaded.hosts == original.hosts
    assert loaded.collections["full"].urls == original.collections["full"].urls
    assert loaded.collections["full"].current == original.collections["full"].current
    assert sorted(loaded.netblocks.entries(), key=repr) == sorted(original.netblocks.entries(), key=repr)
    assert loaded.by_asn == {64500: (a.id,), 64501: (a.id,)}
    assert loaded.continent_redirects == {"IL": "EU"}
    assert loaded.collections["full"].public_hosts == (a.id,)


@pytest.mark.parametrize(
    "blob",
    [
        b"garbage",
        zlib.compress(b"not json"),
        zlib.compress(b"[]"),
        zlib.compress(json.dumps({"format": 99}).encode()),
        zlib.compress(json.dumps({"format": 1, "version": "1"}).encode()),
    ],
)
def test_untrusted_bytes_are_refused(blob):
    with pytest.raises(SnapshotError):
        Table.from_bytes(blob)


def test_wrong_field_types_are_refused():
    a = host("a.example.org")
    document = json.loads(zlib.decompress(table([a], [url(a)]).to_bytes()))
    document["hosts"][0][4] = "100"  # bandwidth as a string
    with pytest.raises(SnapshotError):
        Table.from_bytes(zlib.compress(json.dumps(document).encode()))
    document["hosts"][0][4] = 100
    document["netblocks"] = [[4, 40, "0", a.id]]
    with pytest.raises(SnapshotError):
        Table.from_bytes(zlib.compress(json.dumps(document).encode()))
