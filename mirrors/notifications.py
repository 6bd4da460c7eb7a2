"""Email to the people who run a host: every admin decision and every automatic switch reaches them."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from mirrors.models import Host


def host_recipients(host: Host) -> list[str]:
    """The site's contact address, its owner and its co-admins, each once, in that order."""
    site = host.site
    addresses = [site.contact_email, site.owner.email, *(user.email for user in site.admins.all())]
    unique: dict[str, str] = {}
    for address in addresses:
        if address:
            unique.setdefault(address.lower(), address)
    return list(unique.values())


def host_operators_notify(*, host: Host, subject: str, body: str) -> int:
    """Email the people behind `host`; returns how many messages were handed to the mail backend."""
    recipients = host_recipients(host)
    if not recipients:
        return 0
    return send_mail(
        subject=f"[mirrormanager] {subject}",
        message=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
        fail_silently=False,
    )
