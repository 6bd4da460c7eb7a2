"""REST API routes of mirrors.mirrorlist, mounted under /api/v1/."""

from django.urls import path

from mirrors.mirrorlist.api import MirrorlistView

urlpatterns = [
    path("mirrorlist/<str:collection>/", MirrorlistView.as_view(), name="api-mirrorlist"),
]
