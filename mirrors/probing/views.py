"""Pages of the probes: every URL's state, one URL's history with its lag chart, a collection's propagation.

Public visitors see approved public hosts only; an operator also sees their own sites' URLs, staff see all.
Anything else is a 404, never a hint that it exists.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from metadata.models import Collection
from mirrors.models import HostState, HostURL, ProbeResult
from mirrors.probing import charts, selectors

CHART_DAYS = 7
RECENT_RESULTS = 20


def visible_urls(request: HttpRequest) -> QuerySet[HostURL]:
    """The URLs this visitor may see."""
    urls = HostURL.objects.select_related("host__site", "collection")
    if request.user.is_staff:
        return urls
    public = Q(host__state=HostState.APPROVED, host__private=False, collection__public=True)
    if request.user.is_authenticated:
        own = Q(host__site__owner=request.user) | Q(host__site__admins=request.user)
        return urls.filter(public | own).distinct()
    return urls.filter(public)


def probe_overview(request: HttpRequest) -> HttpResponse:
    """Every visible URL with its latest probe."""
    urls = visible_urls(request).order_by("collection__slug", "host__name", "scheme")
    return render(
        request, "mirrors/probing/overview.html", {"urls": urls, "interval_minutes": settings.PROBE_INTERVAL // 60}
    )


def url_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One URL: its state, lag chart and recent probe results."""
    url = get_object_or_404(visible_urls(request), pk=pk)
    now = timezone.now()
    since = now - timedelta(days=min(CHART_DAYS, settings.PROBE_HISTORY_DAYS))
    points = selectors.url_lag_series(url, since=since)
    results = ProbeResult.objects.filter(host_url=url).order_by("-checked_at")[:RECENT_RESULTS]
    return render(
        request,
        "mirrors/probing/url_detail.html",
        {"url": url, "chart": charts.lag_chart(points, since=since, now=now), "results": results, "days": CHART_DAYS},
    )


def collection_propagation(request: HttpRequest, slug: str) -> HttpResponse:
    """How fast the collection's recent revisions reached its mirrors."""
    collection = get_object_or_404(Collection, slug=slug)
    if not collection.public and not request.user.is_staff:
        raise Http404("no such collection")
    curves = selectors.collection_propagation(
        collection, revisions=5, public_only=not request.user.is_staff, now=timezone.now()
    )
    return render(
        request,
        "mirrors/probing/propagation.html",
        {"collection": collection, "curves": curves, "chart": charts.propagation_chart(curves)},
    )
