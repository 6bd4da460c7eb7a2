"""Probe runs and their consequences: history, the latest state of each URL, automatic switching off and on.

A run claims the URLs that are due (setting their next probe time, staggered, so an overlapping run
skips them), probes them concurrently (engine.runner), and records as results come in. A good result
(current or behind) is applied to its URL at once, and switches an automatically disabled URL back on.
A failed one (broken, corrupt, incomplete) goes into the history at once, but reaches the URL only when
the run ends and is not void: if most probes of a run failed, the origin's own network is the likely
cause, so the URLs keep their previous state, nothing is switched off, and the admins are told.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from mirrors.models import HostURL, ProbeResult, ProbeRun, ProbeState
from mirrors.notifications import host_operators_notify
from mirrors.probing import selectors
from mirrors.probing.engine.probe import Prober
from mirrors.probing.engine.runner import Job, run_jobs
from mirrors.probing.engine.sampling import SamplePlanner
from mirrors.probing.engine.types import FAILURES, ProbeLimits, ProbeOutcome, ProbeTarget, RevisionBook
from mirrors.signals import probes_finished

log = logging.getLogger(__name__)
REASON_LENGTH = 1000
SEVERITY = {
    ProbeState.CORRUPT: 0,
    ProbeState.INCOMPLETE: 1,
    ProbeState.BROKEN: 2,
    ProbeState.BEHIND: 3,
    ProbeState.CURRENT: 4,
    ProbeState.UNKNOWN: 5,
}


def probe_limits() -> ProbeLimits:
    """The engine's limits from the PROBE_* settings."""
    return ProbeLimits(
        connect_timeout=settings.PROBE_CONNECT_TIMEOUT,
        read_timeout=settings.PROBE_READ_TIMEOUT,
        max_bytes=settings.PROBE_MAX_BYTES,
        sample_files=settings.PROBE_SAMPLE_FILES,
        sample_max_bytes=settings.PROBE_SAMPLE_MAX_BYTES,
        allow_private=settings.PROBE_ALLOW_PRIVATE,
        ca_certs=getattr(settings, "PROBE_CA_CERTS", None),
    )


@dataclass(frozen=True)
class Verdict:
    """The outcomes of one URL's probe (one per address family) folded into the URL's latest state.

    The state is the worst among the families that answered at all, so that a mirror reachable over IPv4
    only is still listed to IPv4 clients; it is broken only when every family failed to answer.
    """

    state: str
    reason: str
    repomd_sha256: str
    revision: int | None
    revisions_behind: int | None
    lag_seconds: int | None
    reachable_ipv4: bool
    reachable_ipv6: bool

    @property
    def failed(self) -> bool:
        return self.state in FAILURES

    @classmethod
    def of(cls, outcomes: list[ProbeOutcome]) -> Verdict:
        answered = [outcome for outcome in outcomes if outcome.state != ProbeState.BROKEN] or outcomes
        worst = min(answered, key=lambda outcome: SEVERITY[outcome.state])
        split = len(outcomes) > 1

        def label(outcome: ProbeOutcome) -> str:
            return f"IPv{outcome.family}: {outcome.reason}" if split and outcome.family else outcome.reason

        notes = [label(worst)] if worst.reason else []
        notes += [label(o) for o in outcomes if o is not worst and o.state == ProbeState.BROKEN and o.reason]
        reachable = {o.family for o in outcomes if o.state != ProbeState.BROKEN}
        return cls(
            state=worst.state,
            reason="; ".join(notes)[:REASON_LENGTH],
            repomd_sha256=worst.repomd_sha256,
            revision=worst.revision,
            revisions_behind=worst.revisions_behind,
            lag_seconds=worst.lag_seconds,
            reachable_ipv4=4 in reachable,
            reachable_ipv6=6 in reachable,
        )


@dataclass
class RunSummary:
    run: ProbeRun
    counts: dict[str, int] = field(default_factory=dict)
    disabled: list[int] = field(default_factory=list)
    enabled: list[int] = field(default_factory=list)


def next_probe_time(*, now: datetime, first: bool, rng: random.Random) -> datetime:
    """When to probe a URL again: every PROBE_INTERVAL, staggered.

    A URL's first probe puts its next one anywhere in the second half of an interval, so that URLs added
    at once (a new network, a migration) spread out; after that each interval drifts by up to ±10 %.
    """
    interval = settings.PROBE_INTERVAL
    factor = rng.uniform(0.5, 1.0) if first else rng.uniform(0.9, 1.1)
    return now + timedelta(seconds=interval * factor)


def _claim(due: list[selectors.DueURL], *, now: datetime, rng: random.Random) -> None:
    rows = list(HostURL.objects.filter(id__in=[url.id for url in due]).only("id", "probed_at", "next_probe_at"))
    for row in rows:
        row.next_probe_at = next_probe_time(now=now, first=row.probed_at is None, rng=rng)
    HostURL.objects.bulk_update(rows, ["next_probe_at"], batch_size=500)


def _results_create(
    host_url_id: int, outcomes: Iterable[ProbeOutcome], *, run: ProbeRun | None, now: datetime
) -> list[ProbeResult]:
    return ProbeResult.objects.bulk_create(
        [
            ProbeResult(
                host_url_id=host_url_id,
                run=run,
                method=ProbeResult.Method.PROBE,
                family=outcome.family,
                state=outcome.state,
                reason=outcome.reason[:REASON_LENGTH],
                repomd_sha256=outcome.repomd_sha256,
                revision=outcome.revision,
                revisions_behind=outcome.revisions_behind,
                lag_seconds=outcome.lag_seconds,
                duration_ms=outcome.duration_ms,
                checked_at=now,
            )
            for outcome in outcomes
        ]
    )


def hosturl_probe_fields_set(*, url: HostURL, verdict: Verdict, now: datetime) -> None:
    """Copy a verdict into the URL's latest-probe fields (not saved)."""
    url.probe_state = verdict.state
    url.probe_reason = verdict.reason
    url.probe_revision = verdict.revision
    url.probe_revisions_behind = verdict.revisions_behind
    url.probe_lag_seconds = verdict.lag_seconds
    url.probed_at = now
    if verdict.state != ProbeState.BROKEN or verdict.reachable_ipv4 or verdict.reachable_ipv6:
        url.reachable_ipv4 = verdict.reachable_ipv4
        url.reachable_ipv6 = verdict.reachable_ipv6


PROBE_FIELDS = [
    "probe_state",
    "probe_reason",
    "probe_revision",
    "probe_revisions_behind",
    "probe_lag_seconds",
    "probed_at",
    "reachable_ipv4",
    "reachable_ipv6",
    "consecutive_failures",
    "auto_disabled",
    "auto_disabled_reason",
    "updated_at",
]


def hosturl_good_result_apply(*, url: HostURL, verdict: Verdict, now: datetime) -> bool:
    """A current or behind result: the URL's latest state, failures reset, switched back on. True if re-enabled."""
    hosturl_probe_fields_set(url=url, verdict=verdict, now=now)
    url.consecutive_failures = 0
    reenabled = url.auto_disabled
    if reenabled:
        url.auto_disabled = False
        url.auto_disabled_reason = ""
    url.save(update_fields=PROBE_FIELDS)
    if reenabled:
        host_operators_notify(
            host=url.host,
            subject=f"{url.url} is back on",
            body=(
                f"The probes switched {url.url} ({url.collection.slug}) back on: it is {verdict.state} "
                f"(revision {verdict.revision}) as of {now:%Y-%m-%d %H:%M} UTC, after being switched off "
                f"automatically. Clients are sent to it again.\n"
            ),
        )
    return reenabled


def hosturl_failed_result_apply(*, url: HostURL, verdict: Verdict, now: datetime) -> bool:
    """A failed result in a run that counts: failures + 1, switched off after PROBE_DISABLE_AFTER. True if so."""
    hosturl_probe_fields_set(url=url, verdict=verdict, now=now)
    url.consecutive_failures += 1
    disable = url.consecutive_failures >= settings.PROBE_DISABLE_AFTER and not url.auto_disabled
    if disable:
        url.auto_disabled = True
        url.auto_disabled_reason = (
            f"{url.consecutive_failures} failed probes in a row; the last found it {verdict.state}: {verdict.reason}"
        )[:REASON_LENGTH]
    url.save(update_fields=PROBE_FIELDS)
    if disable:
        host_operators_notify(
            host=url.host,
            subject=f"{url.url} was switched off",
            body=(
                f"The probes switched {url.url} ({url.collection.slug}) off automatically:\n\n"
                f"  {url.auto_disabled_reason}\n\n"
                f"Clients are no longer sent to it. The next good probe switches it back on by itself; "
                f"probes come about every {settings.PROBE_INTERVAL // 60} minutes.\n"
            ),
        )
    return disable


@dataclass
class _Pending:
    """A failed URL waiting for the end of the run: ids only, so a run of many failures stays small."""

    url_id: int
    result_ids: list[int]


class _Recorder:
    def __init__(self, run: ProbeRun) -> None:
        self.run = run
        self.summary = RunSummary(run)
        self.failed: list[_Pending] = []
        self.urls = 0

    def record(self, due: selectors.DueURL, outcomes: list[ProbeOutcome]) -> None:
        now = timezone.now()
        verdict = Verdict.of(outcomes)
        with transaction.atomic():
            url = HostURL.objects.select_related("host__site", "collection").filter(pk=due.id).first()
            if url is None:
                return  # deleted while it was probed
            self.urls += 1
            self.summary.counts[verdict.state] = self.summary.counts.get(verdict.state, 0) + 1
            results = _results_create(due.id, outcomes, run=self.run, now=now)
            if verdict.failed:
                self.failed.append(_Pending(due.id, [result.pk for result in results]))
                return
            if hosturl_good_result_apply(url=url, verdict=verdict, now=now):
                self.summary.enabled.append(due.id)

    def finish(self) -> RunSummary:
        run = self.run
        run.urls = self.urls
        run.failures = len(self.failed)
        run.void = (
            self.urls >= settings.PROBE_VOID_MIN_URLS and len(self.failed) > settings.PROBE_VOID_FRACTION * self.urls
        )
        if not run.void:
            for pending in self.failed:
                self._apply_failure(pending)
        else:
            _admins_notify_void(run)
        run.finished_at = timezone.now()
        counts = ", ".join(f"{count} {state}" for state, count in sorted(self.summary.counts.items()))
        run.summary = f"{self.urls} URLs probed: {counts or 'none'}; " + (
            "void: most probes failed, nothing was switched off"
            if run.void
            else f"{len(self.summary.disabled)} switched off, {len(self.summary.enabled)} back on"
        )
        run.save()
        return self.summary

    def _apply_failure(self, pending: _Pending) -> None:
        results = list(ProbeResult.objects.filter(pk__in=pending.result_ids).order_by("family"))
        outcomes = [
            ProbeOutcome(r.family, r.state, r.reason, r.repomd_sha256, r.revision, r.revisions_behind, r.lag_seconds)
            for r in results
        ]
        with transaction.atomic():
            url = (
                HostURL.objects.select_for_update(of=("self",))
                .select_related("host__site", "collection")
                .filter(pk=pending.url_id)
                .first()
            )
            if url is None or not results:
                return
            if hosturl_failed_result_apply(url=url, verdict=Verdict.of(outcomes), now=results[0].checked_at):
                self.summary.disabled.append(pending.url_id)


def _admins_notify_void(run: ProbeRun) -> int:
    admins = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    recipients = sorted({user.email for user in admins})
    if not recipients:
        return 0
    return send_mail(
        subject=f"[mirrormanager] probe run void: {run.failures} of {run.urls} probes failed",
        message=(
            f"The probe run started at {run.started_at:%Y-%m-%d %H:%M} UTC found {run.failures} of {run.urls} "
            f"mirror URLs failing at once. That is more likely a problem of the origin's own network than of "
            f"the mirrors, so the run is void: no URL was switched off and their states were kept. Failures "
            f"are in the probe history. Check the origin's network, DNS and outgoing firewall.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
        fail_silently=False,
    )


def probe_history_prune(*, now: datetime | None = None) -> int:
    """Delete probe results and runs older than PROBE_HISTORY_DAYS; returns how many results went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.PROBE_HISTORY_DAYS)
    deleted, _ = ProbeResult.objects.filter(checked_at__lt=cutoff).delete()
    ProbeRun.objects.filter(started_at__lt=cutoff).delete()
    return deleted


def probes_run(
    *,
    host_name: str | None = None,
    limits: ProbeLimits | None = None,
    prober: Prober | None = None,
    seed: int | None = None,
) -> RunSummary | None:
    """Probe every URL that is due (or every URL of one host), record, apply consequences, prune, signal.

    Returns None when nothing was due.
    """
    now = timezone.now()
    rng = random.Random(seed)  # noqa: S311 - staggering, not security
    due = selectors.due_urls(now=now, host_name=host_name)
    if not due:
        probe_history_prune(now=now)
        return None
    _claim(due, now=now, rng=rng)
    limits = limits or probe_limits()
    pub_root = Path(settings.MIRROR_ROOT) / "pub"
    prober = prober or Prober(
        limits=limits, planner=SamplePlanner(pub_root, max_bytes=limits.sample_max_bytes), rng=rng
    )
    books: dict[int, RevisionBook] = {}
    for url in due:
        if url.collection_id not in books:
            books[url.collection_id] = selectors.revision_book(url.collection_id)
    run = ProbeRun.objects.create(started_at=now)
    recorder = _Recorder(run)

    def work(url: selectors.DueURL) -> list[ProbeOutcome]:
        return prober.probe(ProbeTarget(url.url, url.collection_slug), books[url.collection_id])

    def crashed(url: selectors.DueURL, error: BaseException) -> list[ProbeOutcome]:
        return [ProbeOutcome(0, ProbeState.BROKEN, f"the probe itself failed: {type(error).__name__}")]

    run_jobs(
        [Job(url.host_id, url) for url in due],
        work=work,
        on_result=recorder.record,
        on_error=crashed,
        workers=settings.PROBE_WORKERS,
        per_host=settings.PROBE_PER_HOST,
    )
    summary = recorder.finish()
    probe_history_prune(now=now)
    log.info("probe run %s: %s", run.pk, run.summary)
    probes_finished.send(sender=ProbeRun, run=run)
    return summary
