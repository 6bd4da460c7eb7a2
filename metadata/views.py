"""Pages of the metadata app: what each collection holds and its revision history."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from metadata.selectors import collection_filters_described, collection_list_visible, collection_revisions


def collection_list(request: HttpRequest) -> HttpResponse:
    collections = collection_list_visible(staff=request.user.is_staff)
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
    }
    return render(request, "metadata/collection_detail.html", context)
