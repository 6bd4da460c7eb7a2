"""The site's own error pages in development too (DEBUG on), unless DEBUG_TECHNICAL_ERRORS asks for Django's.

Django's debug 404 and 500 pages list settings, tracebacks and file-system paths. `make run` runs with DEBUG on,
so without this a visitor of a development server would see MIRROR_ROOT in a 404 under /pub/. The traceback of
a 500 still goes to the log (the console), once: Django logs it, and only its page is replaced.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

from core import views


class SiteErrorPagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @staticmethod
    def _active() -> bool:
        return settings.DEBUG and not settings.DEBUG_TECHNICAL_ERRORS

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # No route matched: Django answered with its debug 404 (the URL patterns); answer with the site's page.
        if self._active() and response.status_code == 404 and getattr(request, "resolver_match", None) is None:
            return views.page_not_found(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if self._active() and isinstance(exception, Http404):
            return views.page_not_found(request, exception)
        return None  # a 500 (or a 400 in DEBUG) is core.debug.SiteExceptionReporter's
