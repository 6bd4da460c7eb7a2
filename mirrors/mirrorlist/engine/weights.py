"""Weighted random order within a tier: bandwidth, times a distance factor where coordinates exist.

Two ways to the same distribution (successive weighted draws without replacement, P(next = i) proportional
to w_i among those left):
- small tiers: Efraimidis-Spirakis keys (u ** (1 / w)), sorted;
- large tiers, of which only the first few are listed: draws from the precomputed cumulative bandwidths of
  the bucket (bisect), each accepted with probability = its distance factor (<= 1), already drawn or
  refused hosts drawn again are skipped. Cost O(k log n) instead of O(n) per request.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from mirrors.mirrorlist.engine.table import HostEntry

# A mirror this many km away weighs half as much as one next door (bandwidth equal); a mirror without
# coordinates counts as that far away, so it is neither favoured nor punished much.
DISTANCE_HALF_KM = 1000.0
UNKNOWN_FACTOR = 0.5
_EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class Bucket:
    """The hosts of one tier that have a usable URL for one (schemes, family) variant, with cumulative
    bandwidths for weighted draws; built once per table and variant, then shared by every request."""

    hosts: tuple[HostEntry, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, hosts: Sequence[HostEntry]) -> Bucket:
        return cls(tuple(hosts), tuple(accumulate(max(host.bandwidth, 1) for host in hosts)))


class DistanceFactor:
    """1 / (1 + distance / DISTANCE_HALF_KM) from the client, or 1 for everyone when the client has none.

    Distance by the equirectangular approximation (one cosine, cached per host): within a few percent of
    the great circle up to a few thousand km, and a weight needs no more.
    """

    __slots__ = ("_cache", "_cos", "_lat", "_lon", "known")

    def __init__(self, latitude: float | None, longitude: float | None) -> None:
        self.known = latitude is not None and longitude is not None
        self._cache: dict[int, float] = {}  # per lookup: a host drawn twice is measured once
        if self.known:
            self._lat, self._lon = math.radians(latitude), math.radians(longitude)
            self._cos = math.cos(self._lat)

    def __call__(self, host: HostEntry) -> float:
        if not self.known:
            return 1.0
        cached = self._cache.get(host.id)
        if cached is not None:
            return cached
        if host.latitude is None or host.longitude is None:
            return UNKNOWN_FACTOR
        lat = math.radians(host.latitude)
        dlon = (math.radians(host.longitude) - self._lon + math.pi) % (2 * math.pi) - math.pi
        x = dlon * (self._cos + math.cos(lat)) / 2
        distance = _EARTH_RADIUS_KM * math.hypot(x, lat - self._lat)
        factor = self._cache[host.id] = 1.0 / (1.0 + distance / DISTANCE_HALF_KM)
        return factor


def weighted_order(hosts: Sequence[HostEntry], factor: DistanceFactor, rng: random.Random) -> list[HostEntry]:
    """Every host, in weighted random order (Efraimidis-Spirakis)."""
    if len(hosts) < 2:
        return list(hosts)
    keyed = sorted(
        ((rng.random() ** (1.0 / (max(host.bandwidth, 1) * factor(host))), index) for index, host in enumerate(hosts)),
        reverse=True,
    )
    return [hosts[index] for _key, index in keyed]


def weighted_draw(
    bucket: Bucket, count: int, factor: DistanceFactor, rng: random.Random, eligible: Callable[[HostEntry], bool]
) -> list[HostEntry]:
    """Up to `count` eligible hosts of a large bucket, drawn by weight. Once the hosts already drawn (or
    refused) hold half the weight, draws would mostly hit them again: the rest is ordered exactly instead."""
    chosen: list[HostEntry] = []
    cumulative, hosts = bucket.cumulative, bucket.hosts
    if not hosts:
        return chosen
    seen: set[int] = set()
    total = cumulative[-1]
    seen_weight, half = 0.0, total / 2
    attempts, limit = 0, 4 * count + 16
    random_ = rng.random
    last = len(hosts) - 1
    while len(chosen) < count and attempts < limit and seen_weight < half:
        attempts += 1
        index = bisect_right(cumulative, random_() * total)
        if index > last:
            index = last
        host = hosts[index]
        if host.id in seen:
            continue
        if factor.known and random_() >= factor(host):
            continue  # rejected for distance: may be drawn again
        seen.add(host.id)
        seen_weight += cumulative[index] - (cumulative[index - 1] if index else 0.0)
        if eligible(host):
            chosen.append(host)
    if len(chosen) < count and len(seen) < len(hosts):
        rest = [host for host in hosts if host.id not in seen and eligible(host)]
        chosen += weighted_order(rest, factor, rng)[: count - len(chosen)]
    return chosen
