"""Pages of the mirrors app: each part has its own URL module."""

from django.urls import include, path

from mirrors.registry.urls import shell_urlpatterns

urlpatterns = [
    *shell_urlpatterns,
    path("", include("mirrors.registry.urls")),
    path("", include("mirrors.probing.urls")),
    path("", include("mirrors.mirrorlist.urls")),
]
