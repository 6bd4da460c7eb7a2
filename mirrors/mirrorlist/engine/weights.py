"""Weighted random order within a tier: bandwidth, times a distance factor where coordinates exist.

The factor is 1 / (1 + distance / DISTANCE_HALF_KM) from the client; distance by the equirectangular
approximation (within a few percent of the great circle up to a few thousand km: a weight needs no more).

Two ways to the same distribution (successive weighted draws without replacement, P(next = i) proportional
to w_i among those left):
- small tiers: Efraimidis-Spirakis keys u ** (1 / w), sorted. A bucket (a country's, a continent's) keeps
  each host's position in radians and 1 / bandwidth, so the exponents 1 / w of a request are one
  comprehension over plain floats (one `_factor` each, the only place the factor is computed);
- large tiers, of which only the first few are listed: draws from the precomputed cumulative bandwidths of
  the bucket (bisect), each accepted with probability = its distance factor (<= 1), already drawn or
  refused hosts drawn again are skipped. Cost O(k log n) instead of O(n) per request.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from mirrors.mirrorlist.engine.table import HostEntry

# A mirror this many km away weighs half as much as one next door (bandwidth equal); a mirror without
# coordinates counts as that far away, so it is neither favoured nor punished much.
DISTANCE_HALF_KM = 1000.0
UNKNOWN_FACTOR = 0.5
_EARTH_RADIUS_KM = 6371.0
# The distance factor's km per radian of arc, over DISTANCE_HALF_KM (engine/_fastselect.pyx takes it too).
KM_PER_RADIAN_PER_HALF = _EARTH_RADIUS_KM / DISTANCE_HALF_KM
_PI, _TAU = math.pi, 2 * math.pi
# A bucket keeps the exponents of this many client places (a GeoIP City database has some tens of thousands
# of locations; clients cluster in far fewer), then starts again.
_MAX_PLACES_PER_BUCKET = 4096

# (latitude, longitude, cosine of the latitude), in radians: what a distance needs of a point, made once.
Position = tuple[float, float, float]


def position(latitude: float | None, longitude: float | None) -> Position | None:
    if latitude is None or longitude is None:
        return None
    lat = math.radians(latitude)
    return lat, math.radians(longitude), math.cos(lat)


def _factor(client: Position, host: Position | None) -> float:
    """1 / (1 + distance / DISTANCE_HALF_KM); UNKNOWN_FACTOR for a host without coordinates."""
    if host is None:
        return UNKNOWN_FACTOR
    dlon = (host[1] - client[1] + _PI) % _TAU - _PI
    return 1.0 / (1.0 + KM_PER_RADIAN_PER_HALF * math.hypot(dlon * (client[2] + host[2]) * 0.5, host[0] - client[0]))


class DistanceFactor:
    """The distance factor of hosts from one client (1 for everyone when the client has no coordinates)."""

    __slots__ = ("_cache", "place")

    def __init__(self, latitude: float | None, longitude: float | None) -> None:
        self.place = position(latitude, longitude)
        self._cache: dict[int, float] = {}  # per lookup: a host drawn twice is measured once

    def __call__(self, host: HostEntry) -> float:
        if self.place is None:
            return 1.0
        cached = self._cache.get(host.id)
        if cached is None:
            cached = self._cache[host.id] = _factor(self.place, position(host.latitude, host.longitude))
        return cached


@dataclass(frozen=True, slots=True)
class Bucket:
    """The hosts of one tier that have a usable URL for one (schemes, family) variant, with cumulative
    bandwidths for weighted draws, each host's position and 1 / bandwidth; built once per table and variant,
    then shared by every request."""

    hosts: tuple[HostEntry, ...]
    cumulative: tuple[float, ...]
    positions: tuple[Position | None, ...]
    inverse_bandwidths: tuple[float, ...]
    # client place -> its exponents: the same places ask again and again, and a factor costs a few hundred ns.
    _by_place: dict[Position, list[float]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, hosts: Sequence[HostEntry]) -> Bucket:
        bandwidths = [max(host.bandwidth, 1) for host in hosts]
        return cls(
            tuple(hosts),
            tuple(accumulate(bandwidths)),
            tuple(position(host.latitude, host.longitude) for host in hosts),
            tuple(1.0 / bandwidth for bandwidth in bandwidths),
        )

    def exponents(self, client: Position | None) -> Sequence[float]:
        """1 / (bandwidth x distance factor) of each host."""
        if client is None:
            return self.inverse_bandwidths
        memo = self._by_place
        exponents = memo.get(client)
        if exponents is None:
            exponents = [
                inverse / _factor(client, where)
                for where, inverse in zip(self.positions, self.inverse_bandwidths, strict=True)
            ]
            if len(memo) >= _MAX_PLACES_PER_BUCKET:
                memo.clear()  # a race may clear twice or lose an entry: both harmless
            memo[client] = exponents
        return exponents


def weighted_order(hosts: Sequence[HostEntry], factor: DistanceFactor, rng: random.Random) -> list[HostEntry]:
    """Every host, in weighted random order (Efraimidis-Spirakis)."""
    if len(hosts) < 2:
        return list(hosts)
    keyed = sorted(
        ((rng.random() ** (1.0 / (max(host.bandwidth, 1) * factor(host))), index) for index, host in enumerate(hosts)),
        reverse=True,
    )
    return [hosts[index] for _key, index in keyed]


def bucket_indices(bucket: Bucket, place: Position | None, rng: random.Random) -> list[int]:
    """Every index of a small bucket, in weighted random order (Efraimidis-Spirakis keys)."""
    random_ = rng.random
    keys = [random_() ** exponent for exponent in bucket.exponents(place)]
    return sorted(range(len(keys)), key=keys.__getitem__, reverse=True)


def weighted_draw(
    bucket: Bucket, count: int, factor: DistanceFactor, rng: random.Random, eligible: Callable[[HostEntry], bool]
) -> list[HostEntry]:
    """Up to `count` eligible hosts of a large bucket, drawn by weight. Once the hosts already drawn (or
    refused) hold half the weight, draws would mostly hit them again: the rest is ordered exactly instead."""
    chosen: list[HostEntry] = []
    cumulative, hosts, positions = bucket.cumulative, bucket.hosts, bucket.positions
    if not hosts:
        return chosen
    seen: set[int] = set()
    total = cumulative[-1]
    seen_weight, half = 0.0, total / 2
    attempts, limit = 0, 4 * count + 16
    random_ = rng.random
    last = len(hosts) - 1
    client = factor.place
    while len(chosen) < count and attempts < limit and seen_weight < half:
        attempts += 1
        index = bisect_right(cumulative, random_() * total)
        if index > last:
            index = last
        if index in seen:
            continue
        if client is not None and random_() >= _factor(client, positions[index]):
            continue  # rejected for distance: may be drawn again
        seen.add(index)
        seen_weight += cumulative[index] - (cumulative[index - 1] if index else 0.0)
        host = hosts[index]
        if eligible(host):
            chosen.append(host)
    if len(chosen) < count and len(seen) < len(hosts):
        rest = [host for index, host in enumerate(hosts) if index not in seen and eligible(host)]
        chosen += weighted_order(rest, factor, rng)[: count - len(chosen)]
    return chosen
