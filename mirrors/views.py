"""Pages of the mirrors app. The registry, probes and mirrorlist come in later issues; these are their shells."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def mirror_status(request: HttpRequest) -> HttpResponse:
    """Public status of the mirror network."""
    return render(request, "mirrors/status.html")


@login_required
def my_sites(request: HttpRequest) -> HttpResponse:
    """The signed-in operator's own sites."""
    return render(request, "mirrors/my_sites.html")


@staff_member_required
def moderation(request: HttpRequest) -> HttpResponse:
    """Project admins' moderation queue."""
    return render(request, "mirrors/moderation.html")
