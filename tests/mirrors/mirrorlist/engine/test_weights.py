import math
import random
from collections import Counter

import pytest

from mirrors.mirrorlist.engine import select
from mirrors.mirrorlist.engine.select import Query, select_mirrors
from mirrors.mirrorlist.engine.weights import Bucket, DistanceFactor, bucket_indices, weighted_draw

from .helpers import client, host, table, url

CITIES = [(52.5, 13.4), (38.7, -9.1), (59.3, 18.1), (40.4, -3.7), (None, None), (35.7, 139.7), (-33.9, 151.2)]


def test_bucket_exponents_are_the_inverse_weights():
    hosts = [
        host(f"m{i}.example.org", bandwidth=100 * (i + 1), lat=lat, lon=lon) for i, (lat, lon) in enumerate(CITIES)
    ]
    bucket = Bucket.of(hosts)
    factor = DistanceFactor(48.1, 11.6)
    for exponent, entry in zip(bucket.exponents(factor.place), hosts, strict=True):
        assert math.isclose(exponent, 1 / (entry.bandwidth * factor(entry)), rel_tol=1e-12)
    assert list(bucket.exponents(None)) == [1 / h.bandwidth for h in hosts]


def _small_bucket_first(bucket, count, factor, rng, eligible):
    return [bucket.hosts[index] for index in bucket_indices(bucket, factor.place, rng)][:count]


@pytest.mark.parametrize("draw", [_small_bucket_first, weighted_draw])
def test_both_ways_of_drawing_weigh_distance_and_bandwidth(draw):
    # Three hosts: near (Munich), far (Lisbon), and one without coordinates; equal bandwidth.
    near, far, unknown = (
        host("near.example.org", lat=48.1, lon=11.6),
        host("far.example.org", lat=38.7, lon=-9.1),
        host("unknown.example.org"),
    )
    bucket = Bucket.of([near, far, unknown])
    factor = DistanceFactor(48.2, 11.5)
    weights = {h.name: factor(h) for h in (near, far, unknown)}
    rng = random.Random(7)
    firsts = Counter(draw(bucket, 1, factor, rng, lambda h: True)[0].name for _ in range(6000))
    total = sum(weights.values())
    for name, weight in weights.items():
        assert abs(firsts[name] / 6000 - weight / total) < 0.03  # successive sampling: P(first) = w / sum(w)


def test_a_large_tier_drawn_by_bisection_keeps_distance(monkeypatch):
    monkeypatch.setattr(select, "DRAW_THRESHOLD", 0)
    near = host("near.example.org", lat=52.5, lon=13.4)
    far = host("far.example.org", lat=38.7, lon=-9.1)
    tbl = table([near, far], [url(near), url(far)])
    who = client("203.0.113.9", country="DE", continent="EU", latitude=52.4, longitude=13.5)
    rng = random.Random(5)
    firsts = Counter(
        select_mirrors(tbl, tbl.collections["full"], who, Query(), rng=rng, origin_url=None).mirrors[0].host
        for _ in range(2000)
    )
    assert firsts["near.example.org"] > 1.5 * firsts["far.example.org"]
