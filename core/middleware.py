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


class HeadWithoutBodyMiddleware:
    """HEAD gets GET's status and headers (Content-Length included) and no body, as RFC 9110 asks.

    Django's WSGI handler sends the body of a HEAD response (only runserver and the test client drop it);
    gunicorn then warns on every HEAD that a load balancer or a monitor sends. First in MIDDLEWARE, so last here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method != "HEAD":
            return response
        if response.streaming:
            response.streaming_content = iter(())  # a file stays open until the server closes the response
        else:
            if not response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
            response.content = b""
        return response
