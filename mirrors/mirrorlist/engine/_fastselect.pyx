# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The anonymous lookup's tiers in compiled form: the same order and the same weighted draws as engine.select.

Built by engine/build_fast.py (Cython, then the C compiler) and used by engine/fast.py only when it is there
and was built from this very file; otherwise engine.select answers alone. Why: a worker serves one request in
between the server's own work, so a lookup starts with cold caches, and the Python lookup reads hundreds of
scattered objects; this one reads a few packed arrays (measured in bench/RESULTS.md).

A Variant holds one (collection, schemes, family) variant of a table: per host (dense index) its inverse
bandwidth, position, whether it is private, the countries it serves (a bit set over a country index), and its
JSON entries per tier; the country and continent buckets and the world as index lists. Eligibility follows
_Lookup.host_refusal; the draws are Efraimidis-Spirakis keys u ** (1 / weight), taken largest first, which is
the distribution of successive weighted draws without replacement, as engine.weights draws.
"""

from libc.math cimport fmod, hypot, pow
from libc.stdint cimport uint64_t
from libc.string cimport memset
from cpython.mem cimport PyMem_Free, PyMem_Malloc

cdef extern from *:
    """
    #ifndef MM_SOURCE_SHA256
    #define MM_SOURCE_SHA256 ""
    #endif
    """
    const char* MM_SOURCE_SHA256

SOURCE_SHA256 = MM_SOURCE_SHA256.decode()

# The tiers, in engine.select.TIERS order (the origin is added by the caller).
NETBLOCK, ASN, COUNTRY, CONTINENT, WORLD = 0, 1, 2, 3, 4

cdef double _PI = 3.141592653589793
cdef double _TAU = 2 * 3.141592653589793

# ---- random numbers: xoshiro256+ (doubles from the top 53 bits), seeded from os.urandom by engine.fast ----

cdef uint64_t _state[4]
_state[0] = 0x9E3779B97F4A7C15
_state[1] = 0xBF58476D1CE4E5B9
_state[2] = 0x94D049BB133111EB
_state[3] = 0x2545F4914F6CDD1D


cdef inline uint64_t _rotl(uint64_t x, int k) noexcept nogil:
    return (x << k) | (x >> (64 - k))


cdef inline double _random() noexcept nogil:
    cdef uint64_t result = _state[0] + _state[3]
    cdef uint64_t t = _state[1] << 17
    _state[2] ^= _state[0]
    _state[3] ^= _state[1]
    _state[1] ^= _state[2]
    _state[0] ^= _state[3]
    _state[2] ^= t
    _state[3] = _rotl(_state[3], 45)
    return <double>(result >> 11) * (1.0 / 9007199254740992.0)


def seed(bytes material):
    """Seed the generator from 32 bytes (not all zero)."""
    if len(material) != 32:
        raise ValueError("32 bytes of seed material are needed")
    cdef int i
    for i in range(4):
        _state[i] = int.from_bytes(material[8 * i:8 * i + 8], "little")
    if not (_state[0] | _state[1] | _state[2] | _state[3]):
        _state[0] = 1


def random():
    """One draw in [0, 1): for tests of the generator."""
    return _random()


cdef class Variant:
    cdef int count
    cdef int words
    cdef double* inverse_bandwidth
    cdef double* latitude
    cdef double* longitude
    cdef double* cosine
    cdef char* positioned
    cdef char* private
    cdef char* restricted
    cdef uint64_t* allowed
    cdef int* buckets
    cdef dict index_of
    cdef dict country_index
    cdef dict country_buckets
    cdef dict continent_buckets
    cdef int world_start, world_length
    cdef list entries
    cdef double km_per_radian_per_half
    cdef double unknown_factor

    def __cinit__(self):
        self.inverse_bandwidth = self.latitude = self.longitude = self.cosine = NULL
        self.positioned = self.private = self.restricted = NULL
        self.allowed = NULL
        self.buckets = NULL

    def __init__(self, *, host_ids, inverse_bandwidths, positions, private, allowed_countries, country_index,
                 entries, country_buckets, continent_buckets, world, km_per_radian_per_half, unknown_factor):
        """host_ids: the variant's hosts (those with a usable URL), in index order; positions: (latitude,
        longitude, cosine) in radians or None; allowed_countries: a frozenset per host (empty: everyone);
        country_index: code -> bit; entries: per tier a list of each host's JSON entries; the buckets: code ->
        host indices; world: host indices."""
        cdef int n = len(host_ids), i, j, offset
        if self.inverse_bandwidth != NULL:
            raise RuntimeError("a Variant is made once")
        # The lookup reads these without bounds checks: every length and index is checked here, once.
        for name, values in (("inverse_bandwidths", inverse_bandwidths), ("positions", positions),
                             ("private", private), ("allowed_countries", allowed_countries)):
            if len(values) != n:
                raise ValueError(f"{name}: {len(values)} values for {n} hosts")
        if len(entries) != 5 or any(len(tier) != n for tier in entries):
            raise ValueError("entries: five tiers of one JSON text per host are needed")
        for indices in (*country_buckets.values(), *continent_buckets.values(), world):
            if any(not 0 <= index < n for index in indices) or len(set(indices)) != len(indices):
                raise ValueError("a bucket holds an index that is not a host's, or one twice")
        if any(not 0 <= bit < len(country_index) for bit in country_index.values()):
            raise ValueError("country_index: every bit must be below the number of codes")
        self.count = n
        self.km_per_radian_per_half, self.unknown_factor = km_per_radian_per_half, unknown_factor
        self.words = max(1, (len(country_index) + 63) // 64)
        self.inverse_bandwidth = <double*>PyMem_Malloc(max(n, 1) * 4 * sizeof(double))
        self.positioned = <char*>PyMem_Malloc(max(n, 1) * 3)
        self.allowed = <uint64_t*>PyMem_Malloc(max(n, 1) * self.words * sizeof(uint64_t))
        if not self.inverse_bandwidth or not self.positioned or not self.allowed:
            raise MemoryError()
        self.latitude = self.inverse_bandwidth + max(n, 1)
        self.longitude = self.latitude + max(n, 1)
        self.cosine = self.longitude + max(n, 1)
        self.private = self.positioned + max(n, 1)
        self.restricted = self.private + max(n, 1)
        memset(self.allowed, 0, max(n, 1) * self.words * sizeof(uint64_t))
        self.country_index = dict(country_index)
        self.index_of = {}
        for i in range(n):
            self.index_of[host_ids[i]] = i
            self.inverse_bandwidth[i] = inverse_bandwidths[i]
            where = positions[i]
            self.positioned[i] = where is not None
            self.latitude[i], self.longitude[i], self.cosine[i] = where if where is not None else (0.0, 0.0, 1.0)
            self.private[i] = bool(private[i])
            self.restricted[i] = bool(allowed_countries[i])
            for code in allowed_countries[i]:
                j = self.country_index[code]
                self.allowed[i * self.words + j // 64] |= (<uint64_t>1) << (j % 64)
        self.entries = [list(tier) for tier in entries]
        total = sum(len(v) for v in country_buckets.values()) + sum(len(v) for v in continent_buckets.values())
        total += len(world)
        self.buckets = <int*>PyMem_Malloc(max(total, 1) * sizeof(int))
        if not self.buckets:
            raise MemoryError()
        offset = 0
        self.country_buckets, self.continent_buckets = {}, {}
        for source, target in ((country_buckets, self.country_buckets), (continent_buckets, self.continent_buckets)):
            for code, indices in source.items():
                target[code] = (offset, len(indices))
                for i in indices:
                    self.buckets[offset] = i
                    offset += 1
        self.world_start, self.world_length = offset, len(world)
        for i in world:
            self.buckets[offset] = i
            offset += 1

    def __dealloc__(self):
        PyMem_Free(self.inverse_bandwidth)
        PyMem_Free(self.positioned)
        PyMem_Free(self.allowed)
        PyMem_Free(self.buckets)

    cdef inline double _exponent(self, int i, bint located, double lat, double lon, double cosine) noexcept:
        """1 / (bandwidth x distance factor), engine.weights._factor's formula."""
        if not located:
            return self.inverse_bandwidth[i]
        if not self.positioned[i]:
            return self.inverse_bandwidth[i] / self.unknown_factor
        cdef double dlon = fmod(self.longitude[i] - lon + _PI, _TAU)
        if dlon < 0:
            dlon += _TAU  # Python's % is floored, C's fmod truncates
        dlon -= _PI
        cdef double distance = hypot(dlon * (cosine + self.cosine[i]) * 0.5, self.latitude[i] - lat)
        return self.inverse_bandwidth[i] * (1.0 + self.km_per_radian_per_half * distance)

    cdef inline bint _refused(self, int i, bint named, int country_a, int country_b, int countries) noexcept:
        """_Lookup.host_refusal: private hosts only in the client's netblock and ASN tiers; a host serving some
        countries only to clients whose every known country is one of them (an unknown country passes only in
        the netblock and ASN tiers). A country outside the index (-1) is never served by a restricted host."""
        if self.private[i] and not named:
            return True
        if not self.restricted[i]:
            return False
        if countries == 0:
            return not named
        return not (self._serves(i, country_a) and self._serves(i, country_b))

    cdef inline bint _serves(self, int i, int country) noexcept:
        """Whether restricted host i serves this country bit (-2: no such country to check)."""
        if country == -2:
            return True
        return country >= 0 and (self.allowed[i * self.words + country // 64] >> (country % 64)) & 1

    def select(self, list netblock_groups, asn_host_ids, country, continent, client_country, query_country,
               location, int max_mirrors, int min_mirrors):
        """The JSON entries of the listed hosts, in order, joined by commas. netblock_groups: the host ids of
        the client's netblocks, most specific first; asn_host_ids: those of its ASN (None: no ASN known);
        country and continent: the buckets to use (the selection's, after redirects); client_country and
        query_country: what eligibility compares; location: the client's (latitude, longitude, cosine) in
        radians, or None."""
        cdef int n = self.count, listed_count = 0, room, tier, m, i, k, best, start, length
        cdef int country_a = -2, country_b = -2, countries = 0
        cdef bint located = location is not None
        cdef double lat = 0.0, lon = 0.0, cosine = 1.0, best_key
        cdef list parts = []
        if located:
            lat, lon, cosine = location
        if client_country:
            country_a = self.country_index.get(client_country, -1)
            countries += 1
        if query_country and query_country != client_country:
            country_b = self.country_index.get(query_country, -1)
            countries += 1
        cdef char* listed = <char*>PyMem_Malloc(max(n, 1))
        cdef int* candidates = <int*>PyMem_Malloc(max(n, 1) * sizeof(int))
        cdef double* keys = <double*>PyMem_Malloc(max(n, 1) * sizeof(double))
        if not listed or not candidates or not keys:
            PyMem_Free(listed)
            PyMem_Free(candidates)
            PyMem_Free(keys)
            raise MemoryError()
        memset(listed, 0, max(n, 1))
        try:
            for tier in range(5):
                if tier == NETBLOCK:
                    groups = netblock_groups
                elif tier == ASN:
                    groups = [asn_host_ids] if asn_host_ids is not None else []
                elif tier == COUNTRY:
                    groups = [self.country_buckets.get(country)] if country else []
                elif tier == CONTINENT:
                    groups = [self.continent_buckets.get(continent)] if continent else []
                else:
                    groups = [(self.world_start, self.world_length)]
                for group in groups:
                    room = (min(max_mirrors, min_mirrors) if tier == WORLD else max_mirrors) - listed_count
                    if room <= 0 or not group:
                        continue
                    # listed[i]: 0 free, 1 listed, 2 a candidate of this group (so that a host named twice in
                    # a group is one candidate, and m never exceeds n).
                    m = 0
                    if tier <= ASN:
                        for host_id in group:
                            index = self.index_of.get(host_id)
                            if index is None:
                                continue
                            i = index
                            if not listed[i] and not self._refused(i, True, country_a, country_b, countries):
                                listed[i] = 2
                                candidates[m] = i
                                m += 1
                    else:
                        start, length = group
                        for k in range(start, start + length):
                            i = self.buckets[k]
                            if not listed[i] and not self._refused(i, False, country_a, country_b, countries):
                                listed[i] = 2
                                candidates[m] = i
                                m += 1
                    for k in range(m):
                        keys[k] = pow(_random(), self._exponent(candidates[k], located, lat, lon, cosine))
                    tier_entries = self.entries[tier]
                    while room > 0 and m > 0:
                        best, best_key = 0, keys[0]
                        for k in range(1, m):
                            if keys[k] > best_key:
                                best, best_key = k, keys[k]
                        i = candidates[best]
                        listed[i] = 1
                        listed_count += 1
                        parts.append(tier_entries[i])
                        m -= 1
                        candidates[best], keys[best] = candidates[m], keys[m]
                        room -= 1
                    for k in range(m):  # the candidates not drawn are free again for later tiers
                        listed[candidates[k]] = 0
            return ",".join(parts)
        finally:
            PyMem_Free(listed)
            PyMem_Free(candidates)
            PyMem_Free(keys)
