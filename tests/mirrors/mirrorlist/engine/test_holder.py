from mirrors.mirrorlist.engine.holder import SnapshotBlob, TableHolder, cache_read, cache_write
from mirrors.mirrorlist.engine.table import table_sha256

from .helpers import host, table, url


def _blob(version):
    a = host("a.example.org")
    data = table([a], [url(a)], version=version).to_bytes()
    return SnapshotBlob(version, table_sha256(data), data)


class FakeSource:
    def __init__(self):
        self.blobs = {}
        self.down = False

    def latest_version(self):
        if self.down:
            raise ConnectionError("database down")
        return max(self.blobs, default=None)

    def fetch(self, version):
        return self.blobs.get(version)


def test_swaps_to_a_new_source_version_and_caches_it(tmp_path):
    source = FakeSource()
    holder = TableHolder(cache_path=tmp_path / "c.bin", source=source, refresh_seconds=0, poll=False)
    assert holder.table() is None
    source.blobs[1] = _blob(1)
    assert holder.table().version == 1  # first load of a process without cache: straight from the source
    source.blobs[2] = _blob(2)
    old = holder.table()
    assert holder.poll_source_once() is True
    assert old.version == 1 and holder.table().version == 2  # the old object is untouched
    assert cache_read(tmp_path / "c.bin").version == 2


def test_serves_the_local_cache_when_the_source_is_down(tmp_path):
    cache_write(tmp_path / "c.bin", _blob(5))
    source = FakeSource()
    source.down = True
    holder = TableHolder(cache_path=tmp_path / "c.bin", source=source, refresh_seconds=0, poll=False)
    assert holder.table().version == 5
    assert holder.poll_source_once() is False and "unavailable" in holder.last_error
    # A sibling process writes a newer cache file: picked up by the stat in the request path.
    cache_write(tmp_path / "c.bin", _blob(6))
    assert holder.table().version == 6


def test_damaged_snapshots_are_refused(tmp_path):
    (tmp_path / "c.bin").write_bytes(b"MMLIST1 1 " + b"0" * 64 + b"\nnot a table")
    source = FakeSource()
    good = _blob(3)
    source.blobs[3] = SnapshotBlob(3, good.sha256, good.data[:-1] + b"x")  # bytes do not match the hash
    holder = TableHolder(cache_path=tmp_path / "c.bin", source=source, refresh_seconds=0, poll=False)
    assert holder.table() is None and "refused" in holder.last_error
    source.blobs[3] = SnapshotBlob(3, good.sha256, good.data)
    source.blobs[4] = SnapshotBlob(4, good.sha256, good.data)  # travelled as v4 but holds v3
    assert holder.poll_source_once() is False and holder.table() is None
    del source.blobs[4]
    assert holder.poll_source_once() is True and holder.table().version == 3
