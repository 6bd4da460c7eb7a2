"""Pages of the metadata app: what each collection holds, its revision history, and the published trees."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.static import serve as static_serve

from metadata.negotiation import JSON_TYPE, simple_format
from metadata.selectors import (
    collection_copy_describe,
    collection_filters_described,
    collection_list_visible,
    collection_list_with_latest,
    collection_revisions,
)


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


def _folder_redirect(request: HttpRequest, pub_root: Path, path: str) -> HttpResponse | None:
    """A folder asked for without its trailing slash (`/pub/full/simple`): a relative redirect to it, right
    behind any proxy (no scheme, host or port of ours in it), as nginx does with `absolute_redirect off`."""
    if not path or path.endswith("/") or path.startswith("/") or ".." in path.split("/") or "\x00" in path:
        return None
    folder = (pub_root / path).resolve()
    if not folder.is_relative_to(pub_root.resolve()) or not folder.is_dir():
        return None
    target = path.rpartition("/")[2] + "/"
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{target}?{query}" if query else target)


@require_safe
def published_file(request: HttpRequest, path: str) -> HttpResponse:
    """Serve MIRROR_ROOT/pub for `make run` and tests; production lets nginx serve the same static files."""
    if not settings.SERVE_PUBLISHED:
        raise Http404("published trees are served by the web server")
    pub_root = Path(settings.MIRROR_ROOT) / "pub"
    redirect = _folder_redirect(request, pub_root, path)
    if redirect is not None:
        return redirect
    if path == "" or path.endswith("/"):
        json_wanted = "/simple/" in f"/{path}" and simple_format(request.headers.get("Accept")) == "json"
        path = f"{path}index.json" if json_wanted else f"{path}index.html"
    try:
        response = static_serve(request, path, document_root=pub_root)
    except (SuspiciousFileOperation, Http404):
        # Django's static view names the full path of the file in its 404: raise one that does not.
        raise Http404("no such file") from None
    if path.endswith("/index.json") and "/simple/" in f"/{path}":
        response["Content-Type"] = JSON_TYPE
    elif path.endswith("/index.html") and "/simple/" in f"/{path}":
        response["Content-Type"] = "text/html; charset=utf-8"
    elif "/packages/" in f"/{path}":
        # Files as they are, as nginx's snippet serves them: Django would send a .tar.gz with
        # `Content-Encoding: gzip`, and clients (aiohttp, bandersnatch) unpack it and get a wrong hash.
        response["Content-Type"] = "application/octet-stream"
        if response.has_header("Content-Encoding"):
            del response["Content-Encoding"]
    response["Vary"] = "Accept"
    return response
