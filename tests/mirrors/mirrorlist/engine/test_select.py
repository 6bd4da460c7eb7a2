import random
from collections import Counter

from mirrors.mirrorlist.engine.select import Query, select_mirrors

from .helpers import client, host, table, url

ORIGIN = "https://origin.example/pub/full/"


def _select(tbl, who, **query):
    seed = query.pop("seed", 1)
    return select_mirrors(tbl, tbl.collections["full"], who, Query(**query), rng=random.Random(seed), origin_url=ORIGIN)


def _tiers(selection):
    return [(entry.host, entry.tier) for entry in selection.mirrors]


def test_tiers_in_order_and_origin_last():
    net = host("net.example.org", country="FR", continent="EU")
    wide = host("wide.example.org", country="FR", continent="EU")
    asn = host("asn.example.org", country="US", continent="NA", asn=64500)
    de = host("de.example.org", country="DE")
    eu = host("eu.example.org", country="NL")
    world = host("world.example.org", country="JP", continent="AS")
    hosts = [net, wide, asn, de, eu, world]
    tbl = table(hosts, [url(h) for h in hosts], netblocks=[("192.0.2.0/24", net), ("192.0.0.0/16", wide)])
    who = client("192.0.2.7", country="DE", continent="EU", asn=64500)
    got = _tiers(_select(tbl, who, min_mirrors=10))
    assert got == [
        ("net.example.org", "netblock"), ("wide.example.org", "netblock"), ("asn.example.org", "asn"),
        ("de.example.org", "country"), ("eu.example.org", "continent"), ("world.example.org", "world"),
        ("origin", "origin"),
    ]  # fmt: skip
    # With the minimum reached, the world tier is left out; the origin is still last.
    got = _tiers(_select(tbl, who, min_mirrors=3))
    assert ("world.example.org", "world") not in got and got[-1] == ("origin", "origin")


def test_requested_country_and_continent_redirect():
    il = host("il.example.org", country="IL", continent="AS")
    eu = host("eu.example.org", country="DE")
    asia = host("jp.example.org", country="JP", continent="AS")
    tbl = table([il, eu, asia], [url(il), url(eu), url(asia)], redirects={"IL": "EU"})
    got = _tiers(_select(tbl, client("203.0.113.5"), country="IL", min_mirrors=2))
    assert got == [("il.example.org", "country"), ("eu.example.org", "continent"), ("origin", "origin")]
    tbl = table([il, eu, asia], [url(il), url(eu), url(asia)])
    got = _tiers(_select(tbl, client("203.0.113.5"), country="IL", min_mirrors=2))
    assert got == [("il.example.org", "country"), ("jp.example.org", "continent"), ("origin", "origin")]


def test_weights_are_honoured():
    big = host("big.example.org", bandwidth=300)
    small = host("small.example.org", bandwidth=100)
    tbl = table([big, small], [url(big), url(small)])
    rng = random.Random(12345)
    who = client("203.0.113.9", country="DE", continent="EU")
    firsts = Counter(
        select_mirrors(tbl, tbl.collections["full"], who, Query(), rng=rng, origin_url=None).mirrors[0].host
        for _ in range(4000)
    )
    share = firsts["big.example.org"] / 4000
    assert 0.72 < share < 0.78  # expected 0.75; the seed makes this exact and repeatable


def test_distance_weighs_within_a_tier():
    near = host("near.example.org", lat=52.5, lon=13.4)  # Berlin
    far = host("far.example.org", lat=38.7, lon=-9.1)  # Lisbon, same bandwidth
    tbl = table([near, far], [url(near), url(far)])
    rng = random.Random(3)
    who = client("203.0.113.9", country="DE", continent="EU", latitude=52.4, longitude=13.5)
    firsts = Counter(
        select_mirrors(tbl, tbl.collections["full"], who, Query(), rng=rng, origin_url=None).mirrors[0].host
        for _ in range(2000)
    )
    assert firsts["near.example.org"] > 1.5 * firsts["far.example.org"]


def test_seed_repeats_the_order():
    hosts = [host(f"m{i}.example.org") for i in range(8)]
    tbl = table(hosts, [url(h) for h in hosts])
    who = client("203.0.113.9", country="DE")
    assert _tiers(_select(tbl, who, seed=5)) == _tiers(_select(tbl, who, seed=5))


def test_country_restrictions():
    only_fr = host("fr-only.example.org", country="DE", allowed=["FR"])
    open_ = host("open.example.org", country="DE")
    tbl = table([only_fr, open_], [url(only_fr), url(open_)], netblocks=[("192.0.2.0/24", only_fr)])
    assert [e.host for e in _select(tbl, client("203.0.113.1", country="DE")).mirrors] == ["open.example.org", "origin"]
    assert "fr-only.example.org" in [e.host for e in _select(tbl, client("203.0.113.1", country="FR")).mirrors]
    # A requested country does not lift the restriction for a client GeoIP places elsewhere.
    assert "fr-only.example.org" not in [
        e.host for e in _select(tbl, client("203.0.113.1", country="DE"), country="FR").mirrors
    ]
    # Unknown country: only where the operator named the client's network.
    assert "fr-only.example.org" not in [e.host for e in _select(tbl, client("203.0.113.1")).mirrors]
    assert "fr-only.example.org" in [e.host for e in _select(tbl, client("192.0.2.1")).mirrors]


def test_protocol_and_address_family_filters():
    h = host("both.example.org")
    v6 = host("v6.example.org")
    urls = [url(h, "https"), url(h, "http"), url(h, "rsync"), url(v6, "https", ipv4=False, ipv6=True)]
    tbl = table([h, v6], urls)
    v4_client = client("203.0.113.1", country="DE")
    v6_client = client("2001:db8::1", country="DE")
    assert [e.url for e in _select(tbl, v4_client).mirrors] == [
        "https://both.example.org/pypi/full/", "http://both.example.org/pypi/full/", ORIGIN
    ]  # fmt: skip
    assert [e.url for e in _select(tbl, v4_client, protocol="rsync").mirrors] == ["rsync://both.example.org/pypi/full/"]
    assert [e.url for e in _select(tbl, v6_client, protocol="https").mirrors] == [
        "https://v6.example.org/pypi/full/",
        ORIGIN,
    ]


def test_private_only_in_netblock_and_asn_tiers():
    private = host("private.example.org", private=True, asn=64510, peers=[64511])
    tbl = table([private], [url(private)], netblocks=[("10.0.0.0/8", private)])
    assert _tiers(_select(tbl, client("203.0.113.1", country="DE", continent="EU"))) == [("origin", "origin")]
    assert _tiers(_select(tbl, client("10.2.3.4")))[0] == ("private.example.org", "netblock")
    assert _tiers(_select(tbl, client("203.0.113.1", asn=64511)))[0] == ("private.example.org", "asn")
    assert _tiers(_select(tbl, client("203.0.113.1", asn=64510)))[0] == ("private.example.org", "asn")


def test_build_time_exclusions_and_explain():
    ok = host("ok.example.org")
    stale = host("stale.example.org")
    private = host("private.example.org", private=True)
    tbl = table(
        [ok, stale, private], [url(ok), url(stale, excluded="behind by 9000 s"), url(private), url(ok, "rsync")]
    )
    selection = _select(tbl, client("203.0.113.1", country="DE"), explain=True, min_mirrors=1)
    assert [e.host for e in selection.mirrors] == ["ok.example.org", "origin"]
    reasons = {e.url: e.reason for e in selection.excluded}
    assert reasons["https://stale.example.org/pypi/full/"] == "behind by 9000 s"
    assert reasons["https://private.example.org/pypi/full/"].startswith("private")
    assert reasons["rsync://ok.example.org/pypi/full/"] == "protocol rsync not requested"
    assert all(entry.reason for entry in selection.mirrors)


def test_large_tiers_are_drawn_by_weight_and_capped():
    heavy = host("heavy.example.org", bandwidth=5900)
    others = [host(f"m{i}.example.org", bandwidth=100) for i in range(59)]  # heavy holds half the weight
    tbl = table([heavy, *others], [url(h) for h in [heavy, *others]])
    rng = random.Random(99)
    who = client("203.0.113.9", country="DE", continent="EU")
    firsts = Counter()
    for _ in range(3000):
        selection = select_mirrors(tbl, tbl.collections["full"], who, Query(max_mirrors=4), rng=rng, origin_url=ORIGIN)
        hosts = [entry.host for entry in selection.mirrors]
        assert len(hosts) == 5 and len(set(hosts)) == 5 and hosts[-1] == "origin"
        firsts[hosts[0]] += 1
    assert 0.46 < firsts["heavy.example.org"] / 3000 < 0.54


def test_explain_says_when_the_cap_left_a_mirror_out():
    hosts = [host(f"m{i}.example.org") for i in range(5)]
    tbl = table(hosts, [url(h) for h in hosts])
    selection = _select(tbl, client("203.0.113.9", country="DE"), explain=True, max_mirrors=2)
    assert len(selection.mirrors) == 3
    assert {e.reason for e in selection.excluded} == {"not drawn: at most 2 mirrors are listed, drawn by weight"}
