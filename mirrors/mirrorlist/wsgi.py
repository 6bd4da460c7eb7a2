"""A WSGI fast path for anonymous mirrorlist requests, in front of Django (mirrormanager/wsgi.py wraps it).

Installers ask the mirrorlist far more often than anything else, and Django's request cycle costs more than
the lookup. Requests that need Django (ip=/explain= and their authentication, a host name Django would
refuse, an http request that Django would redirect to https) are passed on untouched, so both paths give the
same answers (tests compare them) and the route is still Django's, with its OpenAPI schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import parse_qsl

from django.http.request import split_domain_port, validate_host

from mirrors.mirrorlist import runtime
from mirrors.mirrorlist.answer import ADMIN_PARAMETERS, mirrorlist_answer

_ROUTE = re.compile(r"/api/v1/mirrorlist/([^/]+)/")
_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 503: "Service Unavailable"}


@lru_cache(maxsize=64)
def _host_allowed(host: str, allowed_hosts: tuple[str, ...]) -> bool:
    """Django's own check of the Host header, cached: a site is asked under one or two names."""
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed_hosts)


def _is_secure(environ: dict, header: tuple[str, str] | None) -> bool:
    if header:
        name, value = header
        return environ.get(name) == value
    return environ.get("wsgi.url_scheme") == "https"


class MirrorlistFastPath:
    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET":
            match = _ROUTE.fullmatch(environ.get("PATH_INFO", ""))
            if match is not None:
                answered = self._answer(environ, match.group(1), start_response)
                if answered is not None:
                    return answered
        return self.app(environ, start_response)

    def _answer(self, environ: dict, slug: str, start_response: Callable) -> Iterable[bytes] | None:
        query_string = environ.get("QUERY_STRING")
        params = dict(parse_qsl(query_string, keep_blank_values=True)) if query_string else {}
        if params and not params.keys().isdisjoint(ADMIN_PARAMETERS):
            return None
        cfg = runtime.config()
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        if not _host_allowed(host, cfg.allowed_hosts):
            return None
        secure = _is_secure(environ, cfg.proxy_ssl_header)
        if cfg.ssl_redirect and not secure:
            return None
        scheme = "https" if secure else "http"
        answer = mirrorlist_answer(
            slug,
            params,
            peer=environ.get("REMOTE_ADDR", ""),
            forwarded_for=environ.get("HTTP_X_FORWARDED_FOR"),
            request_base_url=f"{scheme}://{host}/",
            is_admin=False,
        )
        headers = [
            ("Content-Type", answer.content_type),
            ("Content-Length", str(len(answer.body))),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", cfg.referrer_policy),
            *answer.headers.items(),
        ]
        if secure and cfg.hsts_seconds:
            headers.append(("Strict-Transport-Security", f"max-age={cfg.hsts_seconds}"))
        start_response(f"{answer.status} {_REASONS.get(answer.status, 'Error')}", headers)
        return [answer.body]


def with_fast_path(app: Callable) -> Callable:
    return MirrorlistFastPath(app)
