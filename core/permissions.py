"""Who may open a page: one rule for every staff page of the site (and the Django admin's log-in).

Anonymous visitors go to the site's own log-in with `next`; a signed-in user who is not a project admin gets
the site's 403 page (never the Django admin's log-in with "you are not authorised").
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

STAFF_ONLY_MESSAGE = "this page is for project admins"


def staff_check(request: HttpRequest, *, next_url: str | None = None) -> HttpResponse | None:
    """None when the visitor is staff; a redirect to the log-in when anonymous; PermissionDenied otherwise."""
    if not request.user.is_authenticated:
        return redirect_to_login(next_url or request.get_full_path())
    if not (request.user.is_active and request.user.is_staff):
        raise PermissionDenied(STAFF_ONLY_MESSAGE)
    return None


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator of a staff page (moderation, the mirrorlist explanation, …)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = staff_check(request)
        return refused if refused is not None else view(request, *args, **kwargs)

    return wrapper


class StaffRequiredMixin:
    """The same rule for class-based views."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = staff_check(request)
        return refused if refused is not None else super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
