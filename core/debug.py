"""The site's 500 page in place of Django's debug page (imported by logging set-up: no models here)."""

from __future__ import annotations

from django.conf import settings
from django.template import loader
from django.views.debug import ExceptionReporter


class SiteExceptionReporter(ExceptionReporter):
    """DEFAULT_EXCEPTION_REPORTER: with DEBUG on, the debug 500 (and 400) page is the site's 500 page.

    Django renders every debug error page of an exception through this class, from a view or a middleware
    (a bad Host header too). The log keeps the traceback; DEBUG_TECHNICAL_ERRORS brings Django's page back.
    """

    def _technical(self) -> bool:
        return self.is_email or settings.DEBUG_TECHNICAL_ERRORS

    def get_traceback_html(self) -> str:
        return super().get_traceback_html() if self._technical() else loader.get_template("500.html").render()

    def get_traceback_text(self) -> str:
        if self._technical():
            return super().get_traceback_text()
        return "Something went wrong: the server could not answer this request. The error has been logged.\n"
