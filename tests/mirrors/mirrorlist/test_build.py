from datetime import timedelta

import pytest
from django.utils import timezone

from metadata.models import Collection
from mirrors.mirrorlist.build import mirrorlist_table_build
from mirrors.models import ContinentRedirect, ProbeState
from tests.factories import (
    HostCountryFactory,
    HostFactory,
    HostPeerASNFactory,
    HostURLFactory,
    NetblockFactory,
    RevisionFactory,
)

pytestmark = pytest.mark.django_db


def _reasons(table):
    return {entry.url: entry.excluded for entry in table.collections["full"].urls}


def test_only_approved_enabled_current_urls_are_listable():
    full = Collection.objects.get(slug="full")
    now = timezone.now()
    RevisionFactory(collection=full, number=1, timestamp=now - timedelta(hours=2))
    RevisionFactory(collection=full, number=2, timestamp=now - timedelta(minutes=5))
    good = HostURLFactory(host=HostFactory(approved=True, name="good.example.org"), current=True, probe_revision=2)
    behind_ok = HostURLFactory(host=HostFactory(approved=True, name="lag.example.org"),
                               probe_state=ProbeState.BEHIND, probe_lag_seconds=300)  # fmt: skip
    stale = HostURLFactory(host=HostFactory(approved=True, name="stale.example.org"),
                           probe_state=ProbeState.BEHIND, probe_lag_seconds=full.max_lag_seconds + 1)  # fmt: skip
    pending = HostURLFactory(host=HostFactory(name="pending.example.org"), current=True)
    off = HostURLFactory(host=HostFactory(approved=True, enabled=False, name="off.example.org"), current=True)
    auto = HostURLFactory(host=HostFactory(approved=True, name="auto.example.org"), current=True,
                          auto_disabled=True, auto_disabled_reason="5 failures")  # fmt: skip
    corrupt = HostURLFactory(host=HostFactory(approved=True, name="corrupt.example.org"),
                             probe_state=ProbeState.CORRUPT, probe_reason="bad bytes")  # fmt: skip
    unknown = HostURLFactory(host=HostFactory(approved=True, name="new.example.org"))
    reasons = _reasons(mirrorlist_table_build(version=7))
    assert reasons[good.url] == "" and reasons[behind_ok.url] == ""
    assert reasons[stale.url].startswith("behind by")
    assert reasons[pending.url] == "host pending"
    assert reasons[off.url] == "host switched off by its operator"
    assert reasons[auto.url] == "disabled by the probes: 5 failures"
    assert reasons[corrupt.url] == "corrupt: bad bytes"
    assert reasons[unknown.url] == "not probed yet"


def test_facts_travel_into_the_table(mirror_root):
    full = Collection.objects.get(slug="full")
    repomd = b'{"version": 1}'
    import hashlib

    (mirror_root / "pub/full/repodata").mkdir(parents=True)
    (mirror_root / "pub/full/repodata/repomd.json").write_bytes(repomd)
    now = timezone.now()
    RevisionFactory(collection=full, number=4, timestamp=now - timedelta(days=3))
    RevisionFactory(collection=full, number=5, timestamp=now - timedelta(hours=1))
    RevisionFactory(collection=full, number=6, repomd_sha256=hashlib.sha256(repomd).hexdigest(), timestamp=now)
    host = HostFactory(approved=True, asn=64500, private=True, latitude=1.5, longitude=2.5, bandwidth_mbps=250)
    HostURLFactory(host=host, current=True, reachable_ipv6=True)
    NetblockFactory(host=host, cidr="2001:db8::/32")
    HostPeerASNFactory(host=host, asn=64501)
    HostCountryFactory(host=host, country="FR")
    table = mirrorlist_table_build(version=3)
    entry = table.hosts[host.id]
    assert (entry.asn, entry.peer_asns, entry.allowed_countries, entry.private) == (64500, (64501,), {"FR"}, True)
    assert (entry.latitude, entry.longitude, entry.bandwidth) == (1.5, 2.5, 250)
    full_entry = table.collections["full"]
    assert full_entry.current.number == 6 and full_entry.current.size == len(repomd)
    # r5 was superseded just now (within the lag): an alternate; r4 was superseded an hour ago, also within
    # the default 6 h lag; nothing older exists.
    assert [alt.number for alt in full_entry.alternates] == [5, 4]
    assert full_entry.urls[0].ipv6
    assert table.netblocks.size == 1 and table.by_asn[64501] == (host.id,)
    assert table.continent_redirects["IL"] == "EU"  # seeded by the data migration
    assert table.origin_base_url == "https://origin.example/"


def test_redirects_follow_the_admin_table():
    ContinentRedirect.objects.all().delete()
    ContinentRedirect.objects.create(country="MX", continent="SA")
    assert mirrorlist_table_build(version=1).continent_redirects == {"MX": "SA"}
