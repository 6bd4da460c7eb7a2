"""Pages of the mirrors app: each part has its own URL module."""

from django.urls import include, path

from mirrors import views

urlpatterns = [
    path("mirrors/", views.mirror_status, name="mirror-status"),
    path("my/sites/", views.my_sites, name="my-sites"),
    path("moderation/", views.moderation, name="moderation"),
    path("", include("mirrors.registry.urls")),
    path("", include("mirrors.probing.urls")),
    path("", include("mirrors.mirrorlist.urls")),
]
