"""Pages of the metadata app: what each collection holds and its revision history."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from metadata.models import Collection


def collection_list(request: HttpRequest) -> HttpResponse:
    collections = Collection.objects.filter(public=True) if not request.user.is_staff else Collection.objects.all()
    return render(request, "metadata/collection_list.html", {"collections": collections})


def collection_detail(request: HttpRequest, slug: str) -> HttpResponse:
    queryset = Collection.objects.all() if request.user.is_staff else Collection.objects.filter(public=True)
    collection = get_object_or_404(queryset, slug=slug)
    revisions = collection.revisions.all()[:50]
    return render(request, "metadata/collection_detail.html", {"collection": collection, "revisions": revisions})
