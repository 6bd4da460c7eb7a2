"""REST API routes of mirrors.probing, mounted under /api/v1/."""

from django.urls import path

from mirrors.probing.api import CheckinView

urlpatterns = [
    path("checkin/", CheckinView.as_view(), name="api-checkin"),
]
