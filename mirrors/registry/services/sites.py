"""Sites and their co-admins (invited by email, accepted by following the link while signed in)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from mirrors.models import Site, SiteInvitation
from mirrors.registry.services.common import acting, changed_on_commit, require_site_manager


def _site_fields_check(*, name: str, contact_email: str, organization_url: str, exclude_id: int | None) -> dict:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    contact_email = (contact_email or "").strip()
    organization_url = (organization_url or "").strip()
    if not name:
        errors["name"] = "Give the site a name, such as the organisation that runs it."
    elif len(name) > 200:
        errors["name"] = "The name is longer than 200 characters."
    elif Site.objects.filter(name__iexact=name).exclude(pk=exclude_id).exists():
        errors["name"] = f"A site named {name!r} exists already: choose another name."
    try:
        validate_email(contact_email)
    except ValidationError:
        errors["contact_email"] = (
            f"{contact_email!r} is not an email address."
            if contact_email
            else ("Give an address where the project admins can reach the people who run the site.")
        )
    if organization_url:
        try:
            URLValidator(schemes=["https", "http"])(organization_url)
        except ValidationError:
            errors["organization_url"] = f"{organization_url!r} is not an https or http URL."
    if errors:
        raise ValidationError(errors)
    return {"name": name, "contact_email": contact_email, "organization_url": organization_url}


def site_create(*, actor, name: str, contact_email: str, organization_url: str = "") -> Site:
    """Register a site owned by `actor`."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied("Log in to register a site.")
    fields = _site_fields_check(
        name=name, contact_email=contact_email, organization_url=organization_url, exclude_id=None
    )
    with transaction.atomic(), acting(actor):
        site = Site.objects.create(owner=actor, **fields)
    return site


def site_update(*, actor, site: Site, name: str, contact_email: str, organization_url: str = "") -> Site:
    """Change a site's name, contact address or organisation URL."""
    require_site_manager(actor, site)
    fields = _site_fields_check(
        name=name, contact_email=contact_email, organization_url=organization_url, exclude_id=site.pk
    )
    with transaction.atomic(), acting(actor):
        site = Site.objects.select_for_update().get(pk=site.pk)
        for key, value in fields.items():
            setattr(site, key, value)
        site.save()
    return site


def site_delete(*, actor, site: Site) -> None:
    """Remove a site with all its hosts; only its owner (or a project admin) may."""
    if not (actor.is_staff or site.owner_id == actor.pk):
        raise PermissionDenied("Only the site's owner can delete it.")
    with transaction.atomic(), acting(actor):
        host_ids = tuple(site.hosts.values_list("pk", flat=True))
        site_id = site.pk
        site.delete()
        changed_on_commit(change="site_delete", host_ids=host_ids, site_id=site_id)


def site_invite(*, actor, site: Site, email: str, base_url: str) -> SiteInvitation:
    """Invite a co-admin by email; the link makes whoever follows it while signed in a co-admin of the site."""
    require_site_manager(actor, site)
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": f"{email!r} is not an email address."}) from None
    with transaction.atomic(), acting(actor):
        invitation = SiteInvitation.objects.create(
            site=site, email=email, token=secrets.token_urlsafe(32), invited_by=actor
        )
        link = base_url.rstrip("/") + reverse("registry:invitation-accept", args=[invitation.token])
        body = (
            f"{actor.get_username()} invites you to help run the mirror site {site.name}.\n\n"
            f"Follow this link, signed in to your account (or sign up first), to accept:\n{link}\n"
        )
        transaction.on_commit(
            lambda: send_mail(
                f"[mirrormanager] Invitation to co-admin {site.name}",
                body,
                settings.DEFAULT_FROM_EMAIL,
                [email],
            )
        )
    return invitation


def site_invitation_accept(*, actor, token: str) -> Site:
    """Make the signed-in `actor` a co-admin of the invitation's site; each link works once."""
    with transaction.atomic(), acting(actor):
        invitation = SiteInvitation.objects.select_for_update().select_related("site").filter(token=token).first()
        if invitation is None:
            raise ValidationError("This invitation link is not valid.")
        if invitation.accepted_at is not None:
            raise ValidationError("This invitation was used already.")
        site = invitation.site
        if site.owner_id != actor.pk:
            site.admins.add(actor)
        invitation.accepted_by, invitation.accepted_at = actor, timezone.now()
        invitation.save(update_fields=["accepted_by", "accepted_at"])
    return site


def site_admin_remove(*, actor, site: Site, user) -> None:
    """Remove a co-admin (the owner or a project admin may; a co-admin may remove themselves)."""
    if not (actor.is_staff or site.owner_id == actor.pk or actor.pk == user.pk):
        raise PermissionDenied("Only the site's owner can remove its co-admins.")
    with transaction.atomic(), acting(actor):
        site.admins.remove(user)
