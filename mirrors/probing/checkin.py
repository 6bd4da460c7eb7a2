"""Check-in: a mirror the origin cannot reach reports the repomd.json it serves (DESIGN.md, Freshness probes).

The hash counts as current only when it is the current revision's, behind when it is a known older one,
and is refused when the origin never published it. It is recorded in the probe history (method check-in)
and becomes the latest state of each of the host's URLs of that collection. For a private host it also
stands in for the probe: the next probe waits a whole PROBE_INTERVAL, failures are reset and an URL the
probes switched off is switched back on. A public host is still probed as usual, since what it serves
is what clients get.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.fs import is_sha256
from metadata.models import Collection
from mirrors.models import Host, HostURL, ProbeResult, ProbeState
from mirrors.probing import selectors
from mirrors.probing.services import PROBE_FIELDS, Verdict, hosturl_good_result_apply, hosturl_probe_fields_set
from mirrors.signals import probes_finished


class CheckinNotFound(Exception):
    """No such host among the user's own (the same answer whether it exists or not)."""


class CheckinInvalid(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CheckinResult:
    host: Host
    collection: str
    state: str
    revision: int
    revisions_behind: int
    lag_seconds: int
    urls: list[int]


def operator_host(*, user: AbstractBaseUser, host_id: int) -> Host:
    """The host if the user owns its site or is a co-admin of it; CheckinNotFound otherwise."""
    host = (
        Host.objects.select_related("site")
        .filter(Q(site__owner=user) | Q(site__admins=user), pk=host_id)
        .distinct()
        .first()
    )
    if host is None:
        raise CheckinNotFound(f"host {host_id} not found among your sites")
    return host


def checkin_record(*, user: AbstractBaseUser, host_id: int, collection: str, repomd_sha256: str) -> CheckinResult:
    """Record a check-in of one host for one collection; CheckinNotFound (404) or CheckinInvalid (400)."""
    host = operator_host(user=user, host_id=host_id)
    found = Collection.objects.filter(slug=collection).first()
    if found is None:
        raise CheckinInvalid("collection", f"there is no collection {collection!r}")
    sha256 = repomd_sha256.strip().lower()
    if not is_sha256(sha256):
        raise CheckinInvalid("repomd_sha256", "must be the sha256 of repomd.json: 64 hexadecimal digits")
    urls = list(HostURL.objects.select_related("host__site", "collection").filter(host=host, collection=found))
    if not urls:
        raise CheckinInvalid("collection", f"host {host.name} has no URL for the collection {collection!r}")
    book = selectors.revision_book(found)
    revision = book.find(sha256)
    if revision is None:
        raise CheckinInvalid(
            "repomd_sha256", f"{sha256} is not the sha256 of any revision of {collection!r} the origin published"
        )
    now = timezone.now()
    lag = book.lag(revision, now)
    state = ProbeState.CURRENT if lag.revisions == 0 else ProbeState.BEHIND
    verdict = Verdict(
        state=state,
        reason=""
        if state == ProbeState.CURRENT
        else f"checked in at revision {revision.number}, {lag.revisions} behind",
        repomd_sha256=sha256,
        revision=revision.number,
        revisions_behind=lag.revisions,
        lag_seconds=lag.seconds,
        reachable_ipv4=True,
        reachable_ipv6=True,
    )
    with transaction.atomic():
        for url in urls:
            ProbeResult.objects.create(
                host_url=url,
                method=ProbeResult.Method.CHECKIN,
                state=state,
                reason=verdict.reason,
                repomd_sha256=sha256,
                revision=revision.number,
                revisions_behind=lag.revisions,
                lag_seconds=lag.seconds,
                checked_at=now,
            )
            # Reachability is what the probes found; a check-in says nothing about it.
            kept = replace(verdict, reachable_ipv4=url.reachable_ipv4, reachable_ipv6=url.reachable_ipv6)
            if host.private:
                hosturl_good_result_apply(url=url, verdict=kept, now=now)
                url.next_probe_at = now + timedelta(seconds=settings.PROBE_INTERVAL)
                url.save(update_fields=["next_probe_at"])
            else:
                hosturl_probe_fields_set(url=url, verdict=kept, now=now)
                url.save(update_fields=PROBE_FIELDS)
    probes_finished.send(sender=ProbeResult, run=None)
    return CheckinResult(host, collection, state, revision.number, lag.revisions, lag.seconds, [url.pk for url in urls])
