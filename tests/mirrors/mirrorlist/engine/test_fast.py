"""The compiled anonymous lookup against the Python one: the same tiers, eligibility and weighted draws."""

import dataclasses
import json
import logging
import os
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirrors.mirrorlist.engine import fast
from mirrors.mirrorlist.engine.select import Query, select_mirrors

from .helpers import client, host, table, url

ORIGIN = "https://origin.example/pub/full/"

needs_compiled = pytest.mark.skipif(fast.compiled is None, reason="the compiled mirrorlist lookup is not built")


def test_the_compiled_lookup_is_built_where_ci_requires_it():
    if os.environ.get("MM_REQUIRE_COMPILED") != "1":
        pytest.skip("MM_REQUIRE_COMPILED is not set (CI sets it: make setup builds the extension there)")
    assert fast.compiled is not None, "the compiled mirrorlist lookup was not built, or is stale"


def _compiled(tbl, who, query=None):
    body = fast.fast_json_answer(tbl, tbl.collections["full"], who, query or Query(), origin_url=ORIGIN)
    return [(entry["host"], entry["tier"]) for entry in json.loads(body)["mirrors"]]


def _python(tbl, who, query=None, seed=1):
    selection = select_mirrors(
        tbl, tbl.collections["full"], who, query or Query(), rng=random.Random(seed), origin_url=ORIGIN
    )
    return [(entry.host, entry.tier) for entry in selection.mirrors]


@needs_compiled
def test_same_bytes_as_the_python_lookup_where_the_order_is_fixed():
    net = host("net.example.org", country="FR")
    asn = host("asn.example.org", country="US", continent="NA", asn=64500)
    de = host("de.example.org")
    eu = host("eu.example.org", country="NL")
    world = host("world.example.org", country="JP", continent="AS")
    hosts = [net, asn, de, eu, world]
    tbl = table(hosts, [url(h) for h in hosts] + [url(de, "http")], netblocks=[("192.0.2.0/24", net)])
    who = client("192.0.2.7", country="DE", continent="EU", asn=64500)
    from mirrors.mirrorlist.engine.render import render_json_fast

    query = Query(min_mirrors=10)
    selection = select_mirrors(tbl, tbl.collections["full"], who, query, rng=random.Random(1), origin_url=ORIGIN)
    expected = render_json_fast(selection, table_version=tbl.version)
    assert fast.fast_json_answer(tbl, tbl.collections["full"], who, query, origin_url=ORIGIN) == expected


host_strategy = st.fixed_dictionaries(
    {
        "country": st.sampled_from(["DE", "FR", "US", "JP"]),
        "private": st.booleans(),
        "asn": st.one_of(st.none(), st.sampled_from([64500, 64501])),
        "allowed": st.lists(st.sampled_from(["DE", "FR", "ZZ"]), max_size=2, unique=True),
        "netblocks": st.lists(st.sampled_from(["192.0.2.0/24", "192.0.0.0/16", "2001:db8::/32"]), max_size=2),
        "ipv6": st.booleans(),
        "http": st.booleans(),
        "bandwidth": st.integers(0, 1000),
        "located": st.booleans(),
    }
)


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(
    specs=st.lists(host_strategy, min_size=1, max_size=8),
    ip=st.sampled_from(["192.0.2.9", "192.0.77.1", "198.51.100.4", "2001:db8::5", "2001:db9::1"]),
    country=st.one_of(st.none(), st.sampled_from(["DE", "FR", "US", "XX"])),
    asn=st.one_of(st.none(), st.sampled_from([64500, 64501, 64999])),
    requested=st.one_of(st.none(), st.sampled_from(["DE", "FR", "JP"])),
    protocol=st.one_of(st.none(), st.sampled_from(["https", "http", "rsync"])),
    min_mirrors=st.integers(1, 10),
    located=st.booleans(),
)
def test_the_same_tiers_and_hosts_as_the_python_lookup(
    specs, ip, country, asn, requested, protocol, min_mirrors, located
):
    continents = {"DE": "EU", "FR": "EU", "US": "NA", "JP": "AS", "XX": None}
    hosts, urls, netblocks = [], [], []
    for index, spec in enumerate(specs):
        place = {"lat": 48.0 + index, "lon": 11.0 - index} if spec["located"] else {}
        entry = host(f"h{index}.example.org", country=spec["country"], continent=continents[spec["country"]],
                     bandwidth=spec["bandwidth"], private=spec["private"], asn=spec["asn"], allowed=spec["allowed"],
                     **place)  # fmt: skip
        hosts.append(entry)
        urls.append(url(entry, ipv6=spec["ipv6"]))
        if spec["http"]:
            urls.append(url(entry, "http", ipv6=spec["ipv6"]))
        netblocks += [(cidr, entry) for cidr in spec["netblocks"]]
    tbl = table(hosts, urls, netblocks=netblocks, redirects={"JP": "EU"})
    geo = {"latitude": 50.0, "longitude": 8.0} if located else {}
    who = client(ip, country=country, continent=continents.get(country), asn=asn, **geo)
    # max_mirrors above the host count: no tier is cut but the world's (cut to the minimum), so which hosts
    # each tier lists does not depend on the draws.
    query = Query(protocol=protocol, country=requested, min_mirrors=min_mirrors, max_mirrors=20)
    compiled, python = _compiled(tbl, who, query), _python(tbl, who, query)
    # One tier per listed host (a host lists one entry per usable URL, and the world's draw picks hosts).
    assert [tier for _, tier in dict(compiled).items()] == [tier for _, tier in dict(python).items()]
    for tier in ("netblock", "asn", "country", "continent", "origin"):
        assert {h for h, t in compiled if t == tier} == {h for h, t in python if t == tier}
    listed_before_world = {h for h, t in python if t != "world"}
    world = {h for h, t in compiled if t == "world"}
    assert not world & listed_before_world
    by_name = {entry.name: entry for entry in hosts}
    assert all(not by_name[name].private for name in world)


def _shares(pairs, count):
    return {name: number / count for name, number in pairs.items()}


@needs_compiled
def test_weights_and_distance_drawn_as_the_python_lookup_draws():
    # Five hosts in one country: bandwidths and places differ; one has no coordinates.
    places = [(52.5, 13.4), (48.1, 11.6), (38.7, -9.1), (59.3, 18.1), (None, None)]
    hosts = [
        host(f"m{i}.example.org", bandwidth=100 * (i + 1), lat=lat, lon=lon) for i, (lat, lon) in enumerate(places)
    ]
    tbl = table(hosts, [url(h) for h in hosts])
    who = client("203.0.113.9", country="DE", continent="EU", latitude=50.1, longitude=8.7)
    query = Query(max_mirrors=2)
    draws = 20_000
    compiled_first = Counter(_compiled(tbl, who, query)[0][0] for _ in range(draws))
    rng = random.Random(11)
    collection = tbl.collections["full"]
    python_first, python_second = Counter(), Counter()
    compiled_second = Counter(_compiled(tbl, who, query)[1][0] for _ in range(draws))
    for _ in range(draws):
        listed = select_mirrors(tbl, collection, who, query, rng=rng, origin_url=ORIGIN).mirrors
        python_first[listed[0].host] += 1
        python_second[listed[1].host] += 1
    from mirrors.mirrorlist.engine.weights import DistanceFactor

    factor = DistanceFactor(50.1, 8.7)
    weights = {h.name: h.bandwidth * factor(h) for h in hosts}
    total = sum(weights.values())
    for name, weight in weights.items():
        assert abs(compiled_first[name] / draws - weight / total) < 0.015  # P(first) = w / sum(w)
        assert abs(compiled_first[name] - python_first[name]) / draws < 0.02
        assert abs(compiled_second[name] - python_second[name]) / draws < 0.02


@needs_compiled
def test_a_large_tier_keeps_its_weights():
    # 120 hosts on one continent (the Python lookup draws such tiers by bisection): a third of them with
    # five times the bandwidth take 5/7 of the first places.
    hosts = [host(f"m{i}.example.org", country="NL", bandwidth=500 if i % 3 == 0 else 100) for i in range(120)]
    tbl = table(hosts, [url(h) for h in hosts])
    who = client("203.0.113.9", country="DE", continent="EU")
    draws = 6000
    big = sum(int(_compiled(tbl, who)[0][0][1:].split(".")[0]) % 3 == 0 for _ in range(draws))
    assert abs(big / draws - 5 / 7) < 0.03


@needs_compiled
def test_private_and_restricted_hosts_as_the_python_lookup_has_them():
    private = host("private.example.org", private=True, asn=64510)
    only_fr = host("fr-only.example.org", allowed=["FR"])
    open_ = host("open.example.org")
    tbl = table([private, only_fr, open_], [url(private), url(only_fr), url(open_)],
                netblocks=[("10.0.0.0/8", private), ("192.0.2.0/24", only_fr)])  # fmt: skip
    outside = client("203.0.113.1", country="DE", continent="EU")
    assert _compiled(tbl, outside) == [("open.example.org", "country"), ("origin", "origin")]
    assert ("private.example.org", "netblock") in _compiled(tbl, client("10.1.2.3"))
    assert ("private.example.org", "asn") in _compiled(tbl, client("203.0.113.1", asn=64510))
    assert ("fr-only.example.org", "world") in _compiled(tbl, client("203.0.113.1", country="FR"))
    assert "fr-only.example.org" not in dict(_compiled(tbl, client("203.0.113.1", country="DE")))
    assert "fr-only.example.org" not in dict(_compiled(tbl, client("203.0.113.1", country="DE"), Query(country="FR")))
    assert ("fr-only.example.org", "netblock") in _compiled(tbl, client("192.0.2.1"))  # unknown country, named net


@needs_compiled
def test_the_generator_is_seeded_per_process():
    compiled = fast.compiled
    compiled.seed(bytes(range(32)))
    first = [compiled.random() for _ in range(5)]
    compiled.seed(bytes(range(32)))
    assert [compiled.random() for _ in range(5)] == first
    assert all(0.0 <= value < 1.0 for value in first)
    read, write = os.pipe()
    compiled.seed(bytes(range(32)))
    pid = os.fork()
    if pid == 0:  # the child draws after the fork hook reseeded it
        os.write(write, repr(compiled.random()).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert float(os.read(read, 64)) != compiled.random()
    with pytest.raises(ValueError):
        compiled.seed(b"short")


@needs_compiled
def test_a_stale_build_is_not_used(monkeypatch, tmp_path, caplog):
    source = tmp_path / "_fastselect.pyx"
    source.write_text("# another version\n")
    monkeypatch.setattr(fast, "SOURCE", source)
    with caplog.at_level(logging.WARNING, logger=fast.__name__):
        assert fast._load() is None
    assert "another version of _fastselect.pyx" in caplog.text
    monkeypatch.setattr(fast, "SOURCE", tmp_path / "missing.pyx")  # installed without its source
    assert fast._load() is fast.compiled


def test_without_the_compiled_lookup_the_caller_asks_the_python_one(monkeypatch):
    monkeypatch.setattr(fast, "compiled", None)
    h = host("m.example.org")
    tbl = table([h], [url(h)])
    assert fast.fast_json_answer(tbl, tbl.collections["full"], client("203.0.113.1"), Query(), origin_url=None) is None


@needs_compiled
def test_a_collection_without_usable_mirrors_answers_the_origin_alone():
    v6_only = host("v6.example.org")
    tbl = table([v6_only], [url(v6_only, ipv4=False, ipv6=True)])
    assert _compiled(tbl, client("203.0.113.1", country="DE", continent="EU")) == [("origin", "origin")]
    assert _compiled(tbl, client("2001:db8::1", country="DE", continent="EU")) == [
        ("v6.example.org", "country"),
        ("origin", "origin"),
    ]
    empty = table([], [])
    assert _compiled(empty, client("203.0.113.1")) == [("origin", "origin")]


@needs_compiled
def test_a_host_named_twice_in_a_group_is_one_candidate():
    # Tables never repeat a host in a group (the prefix index and the ASN map are sets); the compiled lookup
    # does not rely on it: its buffers are sized to the hosts.
    h = host("m.example.org", asn=64500)
    tbl = dataclasses.replace(table([h], [url(h)]), by_asn={64500: (h.id,) * 5000})
    for _ in range(20):
        assert _compiled(tbl, client("203.0.113.1", asn=64500)) == [("m.example.org", "asn"), ("origin", "origin")]


@needs_compiled
def test_a_variant_checks_what_it_is_given():
    h = host("m.example.org")
    made = dict(
        host_ids=[h.id], inverse_bandwidths=[0.01], positions=[None], private=[False],
        allowed_countries=[frozenset()], country_index={"DE": 0}, entries=[["{}"]] * 5, country_buckets={"DE": [0]},
        continent_buckets={}, world=[0], km_per_radian_per_half=6.371, unknown_factor=0.5,
    )  # fmt: skip
    assert fast.compiled.Variant(**made).select([], None, "DE", None, "DE", None, None, 10, 5) == "{}"
    for wrong in ({"world": [5_000_000]}, {"country_buckets": {"DE": [0, 0]}}, {"positions": []},
                  {"entries": [["{}"]] * 4}, {"inverse_bandwidths": [0.01, 0.02]},
                  {"country_index": {"DE": 64}}):  # fmt: skip
        with pytest.raises(ValueError):
            fast.compiled.Variant(**{**made, **wrong})


def test_a_minimum_of_zero_adds_no_world_tier_in_either_lookup():
    hosts = [host(f"w{i}.example.org", country="JP", continent="AS") for i in range(3)]
    tbl = table(hosts, [url(h) for h in hosts])
    who = client("203.0.113.1", country="DE", continent="EU")
    assert _python(tbl, who, Query(min_mirrors=0)) == [("origin", "origin")]
    if fast.compiled is not None:
        assert _compiled(tbl, who, Query(min_mirrors=0)) == [("origin", "origin")]
