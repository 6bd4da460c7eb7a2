"""Property: a private mirror is listed only to clients inside its netblocks or ASNs, whatever the table,
the client address, the X-Forwarded-For header (forged from untrusted peers) and the parameters."""

import ipaddress
import itertools
import json

from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mirrors.mirrorlist import runtime
from mirrors.mirrorlist.answer import mirrorlist_answer
from mirrors.mirrorlist.engine import fast, select
from mirrors.mirrorlist.engine.geo import GeoInfo

from .engine.helpers import host, table, url

CIDRS = ["10.0.0.0/8", "10.1.0.0/16", "192.0.2.0/24", "2001:db8::/32", "2001:db8:1::/48", "0.0.0.0/0"]
ADDRESSES = ["10.1.2.3", "10.200.0.1", "192.0.2.9", "198.51.100.4", "2001:db8:1::5", "2001:db8:ff::1",
             "127.0.0.1", "203.0.113.7", "::ffff:10.1.2.3"]  # fmt: skip
ASNS = [64500, 64501, 64502, 64503]
_versions = itertools.count(1000)
_COMPILED = fast.compiled  # None when it is not built: then both runs take the Python lookup


class FakeGeo:
    """A deterministic GeoIP: the ASN and country follow from the address."""

    def lookup(self, ip):
        number = int(ipaddress.ip_address(ip))
        return GeoInfo(country=["DE", "FR", "US"][number % 3], continent="EU", asn=ASNS[number % 4])


def _reference_client(peer, forwarded, trusted):
    """The rule, written out plainly: the peer unless it is a trusted proxy; then walk X-Forwarded-For."""
    networks = [ipaddress.ip_network(cidr) for cidr in trusted]

    def addr(text):
        try:
            a = ipaddress.ip_address(text.strip())
        except ValueError:
            return None
        return a.ipv4_mapped if getattr(a, "ipv4_mapped", None) else a

    def is_trusted(a):
        return any(a.version == n.version and a in n for n in networks)

    current = addr(peer)
    if not forwarded or not is_trusted(current):
        return current
    for item in reversed(forwarded.split(",")):
        hop = addr(item)
        if hop is None:
            return current
        current = hop
        if not is_trusted(hop):
            return hop
    return current


host_specs = st.lists(
    st.fixed_dictionaries(
        {
            "private": st.booleans(),
            "asn": st.one_of(st.none(), st.sampled_from(ASNS)),
            "peers": st.lists(st.sampled_from(ASNS), max_size=2, unique=True),
            "country": st.sampled_from(["DE", "FR", "US"]),
            "allowed": st.lists(st.sampled_from(["DE", "FR", "US"]), max_size=2, unique=True),
            "netblocks": st.lists(st.sampled_from(CIDRS), max_size=2, unique=True),
            "ipv6": st.booleans(),
        }
    ),
    min_size=1,
    max_size=6,
)
params_strategy = st.fixed_dictionaries(
    {},
    optional={
        "ip": st.sampled_from(ADDRESSES),
        "explain": st.sampled_from(["1", "0", "true"]),
        "country": st.sampled_from(["DE", "FR", "US", "JP"]),
        "protocol": st.sampled_from(["https", "http"]),
        "seed": st.integers(0, 1000).map(str),
    },
)
forwarded_strategy = st.one_of(
    st.none(), st.lists(st.sampled_from([*ADDRESSES, "garbage", ""]), min_size=1, max_size=3).map(", ".join)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    specs=host_specs,
    peer=st.sampled_from(ADDRESSES),
    forwarded=forwarded_strategy,
    trusted=st.lists(st.sampled_from(["127.0.0.0/8", "10.0.0.0/8", "2001:db8::/32"]), max_size=2, unique=True),
    params=params_strategy,
    min_mirrors=st.integers(1, 6),
    draw_threshold=st.sampled_from([0, 24]),  # 0: every country/continent/world tier takes the drawing path
    compiled=st.booleans(),  # the compiled anonymous lookup (engine.fast) or the Python one
)
def test_private_mirrors_never_leak(
    monkeypatch, specs, peer, forwarded, trusted, params, min_mirrors, draw_threshold, compiled
):
    hosts, urls, netblocks = [], [], []
    for index, spec in enumerate(specs):
        entry = host(f"h{index}.example.org", country=spec["country"], private=spec["private"], asn=spec["asn"],
                     peers=spec["peers"], allowed=spec["allowed"])  # fmt: skip
        hosts.append(entry)
        urls.append(url(entry, ipv6=spec["ipv6"]))
        netblocks += [(cidr, entry) for cidr in spec["netblocks"]]
    tbl = table(hosts, urls, netblocks=netblocks, version=next(_versions))
    monkeypatch.setattr(runtime, "geo", lambda: FakeGeo())
    monkeypatch.setattr(select, "DRAW_THRESHOLD", draw_threshold)
    monkeypatch.setattr(fast, "compiled", _COMPILED if compiled else None)
    with override_settings(TRUSTED_PROXIES=trusted, MIRRORLIST_MIN_MIRRORS=min_mirrors):
        assert runtime.holder().swap(tbl)
        answer = mirrorlist_answer("full", params, peer=peer, forwarded_for=forwarded,
                                   request_base_url="http://127.0.0.1/", is_admin=False)  # fmt: skip
    if "ip" in params or params.get("explain") in ("1", "true"):
        assert answer.status == 403  # ip= and explain= are refused to non-admins
        return
    assert answer.status == 200
    body = json.loads(answer.body)
    client = _reference_client(peer, forwarded, trusted)
    assert body["client"]["ip"] == str(client)
    client_asn = FakeGeo().lookup(str(client)).asn
    by_name = {entry.name: (entry, spec) for entry, spec in zip(hosts, specs, strict=True)}
    assert len({entry["host"] for entry in body["mirrors"]}) == len(body["mirrors"])  # one URL per host here
    for listed in body["mirrors"]:
        if listed["tier"] == "origin":
            continue
        entry, spec = by_name[listed["host"]]
        if spec["allowed"]:
            assert FakeGeo().lookup(str(client)).country in spec["allowed"]
        if client.version == 6:
            assert spec["ipv6"]
        if not spec["private"]:
            continue
        inside = any(client in ipaddress.ip_network(cidr) for cidr in spec["netblocks"])
        in_asn = client_asn in {spec["asn"], *spec["peers"]}
        assert inside or in_asn, (listed, spec, str(client))
