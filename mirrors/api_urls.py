"""The mirrors app's REST API under /api/v1/: each part has its own route module."""

from django.urls import include, path

urlpatterns = [
    path("", include("mirrors.registry.api_urls")),
    path("", include("mirrors.probing.api_urls")),
    path("", include("mirrors.mirrorlist.api_urls")),
]
