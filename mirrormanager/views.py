"""Views of the core app: home page and health check."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.static import serve as static_serve

from mirrormanager.selectors import health_report


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with the checks when all is well; 503 with the reasons when not."""
    report = health_report()
    return JsonResponse(report.as_dict(), status=200 if report.ok else 503)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


PEP691_JSON = "application/vnd.pypi.simple.v1+json"
PEP691_HTML = "application/vnd.pypi.simple.v1+html"


def _wants_json(request: HttpRequest) -> bool:
    """PEP 691 negotiation, as docs/publishing.md's nginx snippet does it: JSON only when asked for."""
    accept = request.headers.get("Accept", "")
    return PEP691_JSON in accept


@require_GET
def published_file(request: HttpRequest, path: str) -> HttpResponse:
    """Serve MIRROR_ROOT/pub for `make run` and tests; production lets nginx serve the same static files."""
    if not settings.SERVE_PUBLISHED:
        raise Http404("published trees are served by the web server")
    pub_root = Path(settings.MIRROR_ROOT) / "pub"
    if path == "" or path.endswith("/"):
        json_wanted = "/simple/" in f"/{path}" and _wants_json(request)
        path = f"{path}index.json" if json_wanted else f"{path}index.html"
    try:
        response = static_serve(request, path, document_root=pub_root)
    except SuspiciousFileOperation:
        raise Http404("no such file") from None
    if path.endswith("/index.json") and "/simple/" in f"/{path}":
        response["Content-Type"] = PEP691_JSON
    elif path.endswith("/index.html") and "/simple/" in f"/{path}":
        response["Content-Type"] = "text/html; charset=utf-8"
    response["Vary"] = "Accept"
    return response
