"""The project's admin site: its own name, and the site's own log-in and 403 page for those who are not staff."""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from core.permissions import staff_check


class MirrorAdminSite(admin.AdminSite):
    site_header = "mirrormanager administration"
    site_title = "mirrormanager admin"
    index_title = "Origin, collections and the mirror registry"

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """One log-in for the whole site: anonymous visitors go to it, signed-in non-staff get the 403 page."""
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("admin:index", current_app=self.name)
        refused = staff_check(request, next_url=next_url)
        return refused if refused is not None else redirect(next_url)

    def admin_view(self, view: Callable, cacheable: bool = False) -> Callable:
        """Django's wrapper sends whoever is not staff to the admin's own log-in: send them where login() does."""
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if not self.has_permission(request):
                refused = staff_check(request)
                if refused is not None:
                    return refused
            return inner(request, *args, **kwargs)

        return update_wrapper(guarded, inner)
