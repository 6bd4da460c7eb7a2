"""/metrics in the Prometheus text format: mirror states, lags and probe outcomes, read from the database.

Off (404) unless METRICS_ENABLED; with METRICS_ALLOWED_CIDRS, only clients in those networks (by socket
peer address) get an answer. Values are read at scrape time, so every web process answers the same.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from mirrors.models import ProbeResult, ProbeRun
from mirrors.probing.selectors import probed_urls


class ProbeCollector:
    """Collects the probes' figures from the database at each scrape."""

    def collect(self) -> Iterator[Metric]:
        urls = probed_urls()
        states = GaugeMetricFamily(
            "mirrormanager_mirror_urls",
            "Mirror URLs by collection and latest probe state",
            labels=["collection", "state"],
        )
        for row in urls.values("collection__slug", "probe_state").annotate(n=Count("id")).order_by():
            states.add_metric([row["collection__slug"], row["probe_state"]], row["n"])
        yield states
        disabled = GaugeMetricFamily(
            "mirrormanager_mirror_urls_auto_disabled", "Mirror URLs switched off by the probes", labels=["collection"]
        )
        for row in urls.filter(auto_disabled=True).values("collection__slug").annotate(n=Count("id")).order_by():
            disabled.add_metric([row["collection__slug"]], row["n"])
        yield disabled
        labels = ["url_id", "host", "collection", "scheme"]
        lag = GaugeMetricFamily(
            "mirrormanager_mirror_url_lag_seconds", "Lag of a mirror URL at its last probe", labels=labels
        )
        behind = GaugeMetricFamily(
            "mirrormanager_mirror_url_revisions_behind",
            "Revisions a mirror URL lacked at its last probe",
            labels=labels,
        )
        rows = urls.filter(probe_lag_seconds__isnull=False).values_list(
            "id", "host__name", "collection__slug", "scheme", "probe_lag_seconds", "probe_revisions_behind"
        )
        for url_id, host, collection, scheme, lag_seconds, revisions in rows.iterator(chunk_size=2000):
            names = [str(url_id), host, collection, scheme]
            lag.add_metric(names, lag_seconds)
            behind.add_metric(names, revisions or 0)
        yield lag
        yield behind
        outcomes = GaugeMetricFamily(
            "mirrormanager_probe_results", "Probe results kept in the history, by state", labels=["state"]
        )
        for row in ProbeResult.objects.values("state").annotate(n=Count("id")).order_by():
            outcomes.add_metric([row["state"]], row["n"])
        yield outcomes
        run = ProbeRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first()
        if run is not None:
            yield GaugeMetricFamily("mirrormanager_probe_run_urls", "URLs in the last probe run", value=run.urls)
            yield GaugeMetricFamily(
                "mirrormanager_probe_run_failures", "Failed URLs in the last run", value=run.failures
            )
            yield GaugeMetricFamily("mirrormanager_probe_run_void", "1 when the last run was void", value=int(run.void))
            yield GaugeMetricFamily(
                "mirrormanager_probe_run_finished_timestamp_seconds",
                "When the last probe run finished (Unix time)",
                value=run.finished_at.timestamp(),
            )
            yield GaugeMetricFamily(
                "mirrormanager_probe_run_duration_seconds",
                "How long the last probe run took",
                value=(run.finished_at - run.started_at).total_seconds(),
            )


def client_allowed(address: str, cidrs: list[str]) -> bool:
    """Whether the socket peer is inside one of the networks (every client when none are given)."""
    if not cidrs:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for cidr in cidrs:
        try:
            if ip in ipaddress.ip_network(cidr, strict=False):
                return True
        except ValueError:
            continue
    return False


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_ENABLED:
        raise Http404("metrics are off")
    if not client_allowed(request.META.get("REMOTE_ADDR", ""), settings.METRICS_ALLOWED_CIDRS):
        return HttpResponseForbidden("metrics are not served to this address\n", content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProbeCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
