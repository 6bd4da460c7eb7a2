"""Views of the core app: the home page, the health check and the site's own error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.selectors import health_report


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with the checks when all is well; 503 with the reasons when not (HEAD too, for load balancers)."""
    report = health_report()
    return JsonResponse(report.as_dict(), status=200 if report.ok else 503)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The site's 404 page (handler404). It never shows the exception's text, which may name a path."""
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The site's 403 page (handler403), with the refusal's reason (our PermissionDenied messages name no path)."""
    reason = str(exception) if exception is not None else ""
    return render(request, "403.html", {"reason": reason}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """The site's 500 page (handler500): a template rendered without a context, so it cannot fail again."""
    return defaults.server_error(request, template_name="500.html")
