"""Pages of mirrors.mirrorlist."""

from django.urls import path

from mirrors.mirrorlist import views

urlpatterns = [
    path("moderation/mirrorlist/", views.mirrorlist_explain, name="mirrorlist-explain"),
]
