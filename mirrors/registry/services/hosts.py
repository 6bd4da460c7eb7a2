"""Hosts: create, change, delete, the operator's switch, and the admins' moderation transitions."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from mirrors.geo_tables import continent_of
from mirrors.models import Host, HostState, Site
from mirrors.notifications import host_operators_notify
from mirrors.registry.errors import ControlNotShown, TransitionRefused
from mirrors.registry.services.common import (
    acting,
    audit_note,
    changed_on_commit,
    field_check,
    require_site_manager,
    require_staff,
)
from mirrors.registry.validation import asn_check, country_check, host_name_check

# Which states each admin transition starts from.
ALLOWED_FROM = {
    "approve": (HostState.PENDING, HostState.REJECTED),
    "reject": (HostState.PENDING,),
    "disable": (HostState.APPROVED,),
    "enable": (HostState.DISABLED,),
}


def new_verification_token() -> str:
    return secrets.token_hex(24)


def host_create(
    *,
    actor,
    site: Site,
    name: str,
    country: str,
    bandwidth_mbps: int = 100,
    asn: int | None = None,
    private: bool = False,
) -> Host:
    """Register a host of `site`; it starts pending, with a fresh verification token."""
    require_site_manager(actor, site)
    name = field_check("name", host_name_check, name)
    country = field_check("country", country_check, country)
    asn = field_check("asn", asn_check, asn, admin=actor.is_staff)
    _bandwidth_check(bandwidth_mbps)
    if Host.objects.filter(name=name).exists():
        raise ValidationError({"name": f"{name} is registered already (by this or another site)."})
    with transaction.atomic(), acting(actor):
        host = Host(
            site=site,
            name=name,
            country=country,
            continent=continent_of(country),
            bandwidth_mbps=bandwidth_mbps,
            asn=asn,
            private=private,
            verification_token=new_verification_token(),
        )
        host.save()
        changed_on_commit(change="host_create", host_ids=(host.pk,), site_id=site.pk)
    return host


def host_update(
    *, actor, host: Host, country: str, bandwidth_mbps: int, asn: int | None = None, private: bool = False
) -> Host:
    """Change a host's details; its name is fixed (delete and register again to rename). The state stays."""
    require_site_manager(actor, host.site)
    country = field_check("country", country_check, country)
    asn = field_check("asn", asn_check, asn, admin=actor.is_staff)
    _bandwidth_check(bandwidth_mbps)
    with transaction.atomic(), acting(actor):
        host = Host.objects.select_for_update().get(pk=host.pk)
        host.country, host.continent = country, continent_of(country)
        host.bandwidth_mbps, host.asn, host.private = bandwidth_mbps, asn, private
        host.save()
        changed_on_commit(change="host_update", host_ids=(host.pk,), site_id=host.site_id)
    return host


def host_delete(*, actor, host: Host) -> None:
    """Remove a host with its URLs and restrictions (the audit trail keeps what it was)."""
    require_site_manager(actor, host.site)
    with transaction.atomic(), acting(actor):
        host_id, site_id = host.pk, host.site_id
        host.delete()
        changed_on_commit(change="host_delete", host_ids=(host_id,), site_id=site_id)


def host_set_enabled(*, actor, host: Host, enabled: bool) -> Host:
    """The operator's own on/off switch, independent of the moderation state."""
    require_site_manager(actor, host.site)
    with transaction.atomic(), acting(actor):
        host = Host.objects.select_for_update().get(pk=host.pk)
        if host.enabled != enabled:
            host.enabled = enabled
            audit_note(host, transition="switched on" if enabled else "switched off")
            host.save(update_fields=["enabled", "updated_at"])
            changed_on_commit(change="host_set_enabled", host_ids=(host.pk,), site_id=host.site_id)
    return host


def host_approve(*, actor, host: Host, reason: str = "", override: bool = False) -> Host:
    """List a pending (or earlier rejected) host; refused while control is not shown unless `override`."""
    return _transition(
        actor=actor, host=host, action="approve", to=HostState.APPROVED, reason=reason, override=override
    )


def host_reject(*, actor, host: Host, reason: str) -> Host:
    """Refuse a pending host, telling its operators why."""
    return _transition(actor=actor, host=host, action="reject", to=HostState.REJECTED, reason=_required(reason))


def host_disable(*, actor, host: Host, reason: str) -> Host:
    """Take an approved host off every list, telling its operators why."""
    return _transition(actor=actor, host=host, action="disable", to=HostState.DISABLED, reason=_required(reason))


def host_enable(*, actor, host: Host, reason: str = "") -> Host:
    """Put a disabled host back (approved)."""
    return _transition(actor=actor, host=host, action="enable", to=HostState.APPROVED, reason=reason)


def _required(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give a reason: it is sent to the host's operators."})
    return reason


def _bandwidth_check(value: int) -> None:
    if not isinstance(value, int) or not 1 <= value <= 10_000_000:
        raise ValidationError({"bandwidth_mbps": "Give the bandwidth in Mbit/s, from 1 to 10000000."})


def _transition(*, actor, host: Host, action: str, to: str, reason: str = "", override: bool = False) -> Host:
    require_staff(actor)
    reason = (reason or "").strip()
    with transaction.atomic(), acting(actor):
        host = Host.objects.select_for_update().select_related("site").get(pk=host.pk)
        if host.state not in ALLOWED_FROM[action]:
            allowed = " or ".join(str(state) for state in ALLOWED_FROM[action])
            raise TransitionRefused(
                f"Cannot {action} {host.name}: it is {host.state}, and only a {allowed} host can be."
            )
        if action == "approve" and host.verified_at is None and not override:
            raise ControlNotShown(
                f"{host.name} has not shown control (its verification file was never found); "
                'approve with "override": true to approve it anyway.'
            )
        previous = host.state
        host.state, host.state_reason, host.state_changed_at = to, reason, timezone.now()
        audit_note(host, transition=action, reason=reason, override=bool(override and host.verified_at is None))
        host.save(update_fields=["state", "state_reason", "state_changed_at", "updated_at"])
        _notify(host=host, action=action, previous=previous, reason=reason)
        changed_on_commit(change=f"host_{action}", host_ids=(host.pk,), site_id=host.site_id)
    return host


_SUBJECTS = {
    "approve": "{name} is approved",
    "reject": "{name} was rejected",
    "disable": "{name} was disabled",
    "enable": "{name} is enabled again",
}
_OUTCOME = {
    "approve": "It will be listed to clients wherever its probes find it current.",
    "reject": "It will not be listed. You may delete it, fix what the reason says and register it again.",
    "disable": "It is no longer listed to any client.",
    "enable": "It will be listed to clients again wherever its probes find it current.",
}


def _notify(*, host: Host, action: str, previous: str, reason: str) -> None:
    """Email the operators once the decision is committed (a rolled-back decision sends nothing)."""
    subject = _SUBJECTS[action].format(name=host.name)
    body = (
        f"A project admin changed the state of your mirror host {host.name} (site {host.site.name}) "
        f"from {previous} to {host.state}.\n\n"
        f"Reason: {reason or '(none given)'}\n\n{_OUTCOME[action]}\n"
    )
    transaction.on_commit(lambda: host_operators_notify(host=host, subject=subject, body=body))
