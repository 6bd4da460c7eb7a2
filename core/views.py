"""Views of the core app: the home page and the health check."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.selectors import health_report


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with the checks when all is well; 503 with the reasons when not."""
    report = health_report()
    return JsonResponse(report.as_dict(), status=200 if report.ok else 503)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")
