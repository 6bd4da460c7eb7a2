"""Pages of the metadata app: what each collection holds, its revision history, and the published trees."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.static import serve as static_serve

from metadata.selectors import (
    collection_copy_describe,
    collection_filters_described,
    collection_list_visible,
    collection_list_with_latest,
    collection_revisions,
)
from sync.engine.index import PEP691_JSON


def collection_list(request: HttpRequest) -> HttpResponse:
    collections = collection_list_with_latest(staff=request.user.is_staff)
    return render(request, "metadata/collection_list.html", {"collections": collections})


def collection_detail(request: HttpRequest, slug: str) -> HttpResponse:
    collection = collection_list_visible(staff=request.user.is_staff).filter(slug=slug).first()
    if collection is None:
        raise Http404("no such collection")
    revisions = collection_revisions(collection=collection)
    context = {
        "collection": collection,
        "revisions": revisions,
        "latest": revisions[0] if revisions else None,
        "filters": collection_filters_described(collection=collection),
        "tree_url": f"/pub/{collection.slug}/",
        "copy": collection_copy_describe(
            collection=collection, request_base_url=request.build_absolute_uri("/"), request_host=request.get_host()
        ),
    }
    return render(request, "metadata/collection_detail.html", context)


def _wants_json(request: HttpRequest) -> bool:
    """PEP 691 negotiation, as docs/publishing.md's nginx snippet does it: JSON only when asked for."""
    accept = request.headers.get("Accept", "")
    return PEP691_JSON in accept


@require_safe
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
    except (SuspiciousFileOperation, Http404):
        # Django's static view names the full path of the file in its 404: raise one that does not.
        raise Http404("no such file") from None
    if path.endswith("/index.json") and "/simple/" in f"/{path}":
        response["Content-Type"] = PEP691_JSON
    elif path.endswith("/index.html") and "/simple/" in f"/{path}":
        response["Content-Type"] = "text/html; charset=utf-8"
    response["Vary"] = "Accept"
    return response
