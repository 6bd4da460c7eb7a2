"""Reading the database into a mirrorlist Table (the only place the table's facts are queried)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from metadata.models import Collection, Revision
from mirrors.mirrorlist.engine.prefix import PrefixEntry, parse_cidr
from mirrors.mirrorlist.engine.table import CollectionEntry, HostEntry, RevisionInfo, Table, URLEntry
from mirrors.models import ContinentRedirect, Host, HostCountry, HostPeerASN, HostState, HostURL, Netblock, ProbeState

# At most this many older revisions are named as alternates in the metalink.
MAX_ALTERNATES = 20
_RECENT_REVISIONS = MAX_ALTERNATES + 1


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _repomd_size(slug: str, sha256: str) -> int | None:
    """The published repomd.json's size, when the file on disk is the current revision's."""
    path = Path(settings.MIRROR_ROOT) / "pub" / slug / "repodata" / "repomd.json"
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return len(data) if hashlib.sha256(data).hexdigest() == sha256 else None


def _revisions(collection: Collection, now: datetime) -> tuple[RevisionInfo | None, tuple[RevisionInfo, ...]]:
    """The current revision, and the older ones a mirror within the allowed lag may still serve."""
    rows = list(
        Revision.objects.filter(collection=collection)
        .order_by("-number")
        .values_list("number", "repomd_sha256", "timestamp")[:_RECENT_REVISIONS]
    )
    if not rows:
        return None, ()
    number, sha256, stamp = rows[0]
    current = RevisionInfo(number, sha256, _iso(stamp), _repomd_size(collection.slug, sha256))
    oldest_allowed = now - timedelta(seconds=collection.max_lag_seconds)
    alternates = []
    # A mirror at revision r has lagged since r+1 was published: r is acceptable while that is recent enough.
    for (n, sha, stamp), (_next_n, _next_sha, next_stamp) in zip(rows[1:], rows, strict=False):
        if next_stamp < oldest_allowed:
            break
        alternates.append(RevisionInfo(n, sha, _iso(stamp)))
    return current, tuple(alternates)


def _url_exclusion(row: dict, host_state: tuple[str, bool] | None, collection: Collection, revisions: dict,
                   now: datetime) -> str:  # fmt: skip
    """Why a URL may not be listed at all ('' when it may), decided once at build time."""
    if host_state is None:
        return "host unknown"
    state, enabled = host_state
    if state != HostState.APPROVED:
        return f"host {state}"
    if not enabled:
        return "host switched off by its operator"
    if row["auto_disabled"]:
        return "disabled by the probes: " + (row["auto_disabled_reason"] or "repeated failures")
    probe = row["probe_state"]
    lag = row["probe_lag_seconds"]
    allowed = collection.max_lag_seconds
    if probe == ProbeState.CURRENT:
        newer = revisions.get((row["probe_revision"] or 0) + 1) if row["probe_revision"] else None
        if newer is not None and (now - newer).total_seconds() > allowed:
            return f"current at probe time, but revision {row['probe_revision'] + 1} is older than {allowed} s"
        return ""
    if probe == ProbeState.BEHIND:
        if lag is not None and lag <= allowed:
            return ""
        return f"behind by {lag if lag is not None else '?'} s (allowed {allowed} s)"
    if probe == ProbeState.UNKNOWN:
        return "not probed yet"
    return f"{probe}: {row['probe_reason']}".rstrip(": ")


def mirrorlist_table_build(*, version: int) -> Table:
    """Read hosts, URLs, netblocks, ASNs, countries, redirects and revisions into one immutable Table."""
    now = timezone.now()
    peers: dict[int, list[int]] = defaultdict(list)
    for host_id, asn in HostPeerASN.objects.values_list("host_id", "asn"):
        peers[host_id].append(asn)
    allowed: dict[int, list[str]] = defaultdict(list)
    for host_id, country in HostCountry.objects.values_list("host_id", "country"):
        allowed[host_id].append(str(country))
    host_rows = Host.objects.values_list(
        "id", "name", "country", "continent", "bandwidth_mbps", "private", "asn", "latitude", "longitude",
        "state", "enabled",
    )  # fmt: skip
    hosts = {}
    host_state = {}
    for id_, name, country, continent, bandwidth, private, asn, lat, lon, state, enabled in host_rows:
        host_state[id_] = (state, enabled)
        hosts[id_] = HostEntry(
            id_, name, str(country), continent, bandwidth, private, asn, tuple(sorted(peers.get(id_, ()))),
            frozenset(allowed.get(id_, ())), lat, lon,
        )  # fmt: skip
    fields = (
        "id", "host_id", "collection_id", "url", "scheme", "reachable_ipv4", "reachable_ipv6", "probe_state",
        "probe_lag_seconds", "probe_revision", "probe_reason", "auto_disabled", "auto_disabled_reason",
    )  # fmt: skip
    urls_by_collection: dict[int, list[dict]] = defaultdict(list)
    for row in HostURL.objects.order_by("id").values(*fields):
        urls_by_collection[row["collection_id"]].append(row)
    collections = []
    listed_hosts: set[int] = set()
    for collection in Collection.objects.filter(public=True):
        current, alternates = _revisions(collection, now)
        stamps = dict(
            Revision.objects.filter(collection=collection)
            .order_by("-number")
            .values_list("number", "timestamp")[:_RECENT_REVISIONS]
        )
        entries = []
        for row in urls_by_collection.get(collection.id, ()):
            excluded = _url_exclusion(row, host_state.get(row["host_id"]), collection, stamps, now)
            if not excluded:
                listed_hosts.add(row["host_id"])
            entries.append(
                URLEntry(
                    row["id"],
                    row["host_id"],
                    row["url"],
                    row["scheme"],
                    row["reachable_ipv4"],
                    row["reachable_ipv6"],
                    row["probe_state"],
                    row["probe_lag_seconds"],
                    excluded,
                )  # fmt: skip
            )
        collections.append(CollectionEntry(collection.slug, current, alternates, tuple(entries)))
    netblocks: list[PrefixEntry] = []
    for host_id, cidr in Netblock.objects.filter(host_id__in=listed_hosts).values_list("host_id", "cidr"):
        try:
            netblocks.append(parse_cidr(cidr, host_id))
        except ValueError:
            continue  # the registry validates netblocks; a bad row must not stop the table
    return Table.create(
        version=version,
        built_at=_iso(now),
        origin_base_url=settings.ORIGIN_BASE_URL,
        hosts=hosts.values(),
        collections=collections,
        netblocks=netblocks,
        continent_redirects={
            str(c): continent for c, continent in ContinentRedirect.objects.values_list("country", "continent")
        },
    )
