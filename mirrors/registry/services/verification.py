"""Proof of control: the origin fetches the host's token file under each of its http(s) URLs.

The fetch goes through the probes' request-forgery guard, outside any transaction; only the result is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.net.guard import FetchError, FetchRefused, guarded_fetch
from mirrors.models import Host, URLScheme
from mirrors.registry.selectors import verification_path
from mirrors.registry.services.common import acting, audit_note, require_site_manager

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
MAX_BYTES = 4096


@dataclass(frozen=True)
class VerificationCheck:
    """What one fetch of the token file found."""

    url: str
    ok: bool
    detail: str


@dataclass
class VerificationOutcome:
    """The result of a "check now": verified or not, a message for people, and each URL tried."""

    verified: bool
    message: str
    checks: list[VerificationCheck] = field(default_factory=list)


def verification_check_url(*, target: str, token: str) -> VerificationCheck:
    """Fetch one token file through the guard and say, in words, what was found."""
    try:
        fetched = guarded_fetch(
            target,
            allow_private=settings.PROBE_ALLOW_PRIVATE,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            max_bytes=MAX_BYTES,
        )
    except FetchRefused as exc:
        return VerificationCheck(target, False, f"refused: {exc.reason}")
    except FetchError as exc:
        return VerificationCheck(target, False, f"unreachable: {exc.reason}")
    if fetched.status == 404:
        return VerificationCheck(target, False, "not found (HTTP 404): the file is not served at this address")
    if fetched.status != 200:
        return VerificationCheck(target, False, f"HTTP {fetched.status} instead of 200")
    body = fetched.body.decode("utf-8", errors="replace").strip()
    if body != token:
        shown = body[:60] + ("…" if len(body) > 60 else "")
        return VerificationCheck(target, False, f"wrong content: the file holds {shown!r}, not this host's token")
    return VerificationCheck(target, True, "the token matches")


def host_verify(*, actor, host: Host) -> VerificationOutcome:
    """Check the token file under each http(s) URL of the host; the first match shows control."""
    require_site_manager(actor, host.site)
    urls = [row.url for row in host.urls.all() if row.scheme in (URLScheme.HTTPS, URLScheme.HTTP)]
    if not urls:
        return VerificationOutcome(
            False, "Add an https or http URL first: the verification file is fetched under the host's URLs."
        )
    path = verification_path(host)
    checks: list[VerificationCheck] = []
    for base in urls:
        check = verification_check_url(target=urljoin(base, path), token=host.verification_token)
        checks.append(check)
        if check.ok:
            break
    if not checks[-1].ok:
        tried = "; ".join(f"{check.url}: {check.detail}" for check in checks)
        return VerificationOutcome(False, f"Control not shown. {tried}", checks)
    with transaction.atomic(), acting(actor):
        row = Host.objects.select_for_update().get(pk=host.pk)
        row.verified_at = timezone.now()
        audit_note(row, transition="control shown", url=checks[-1].url)
        row.save(update_fields=["verified_at", "updated_at"])
    host.verified_at = row.verified_at
    return VerificationOutcome(True, f"Control shown: {checks[-1].url} serves this host's token.", checks)


def host_token_regenerate(*, actor, host: Host) -> Host:
    """A new verification token (for example after the old one leaked); control must be shown again."""
    from mirrors.registry.services.hosts import new_verification_token

    require_site_manager(actor, host.site)
    with transaction.atomic(), acting(actor):
        row = Host.objects.select_for_update().get(pk=host.pk)
        row.verification_token, row.verified_at = new_verification_token(), None
        audit_note(row, transition="verification token replaced")
        row.save(update_fields=["verification_token", "verified_at", "updated_at"])
    return row
