"""A host's URLs, netblocks, allowed countries and (admins only) peer ASNs.

An approved host stays approved when these change; every change is in the audit trail under the host's id.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from metadata.models import Collection
from mirrors.models import Host, HostCountry, HostPeerASN, HostURL, Netblock, ProbeState
from mirrors.registry.services.common import (
    acting,
    audit_note,
    changed_on_commit,
    field_check,
    require_site_manager,
    require_staff,
)
from mirrors.registry.validation import asn_check, cidr_normalise, country_check, url_check, url_unique_check


def _changed(host: Host, change: str) -> None:
    changed_on_commit(change=change, host_ids=(host.pk,), site_id=host.site_id)


def host_url_create(*, actor, host: Host, collection: Collection, url: str) -> HostURL:
    """Say that `host` serves `collection` at `url` (one URL per collection and scheme)."""
    require_site_manager(actor, host.site)
    checked = field_check("url", url_check, url, host_name=host.name)
    field_check("url", url_unique_check, host_id=host.pk, collection_id=collection.pk, scheme=checked.scheme)
    with transaction.atomic(), acting(actor):
        row = HostURL(host=host, collection=collection, url=checked.url, scheme=checked.scheme)
        audit_note(row, host=host.pk)
        row.save()
        _changed(host, "host_url_create")
    return row


def host_url_update(*, actor, host_url: HostURL, collection: Collection, url: str) -> HostURL:
    """Change a URL or the collection it serves; its probe state starts again from unknown if the URL changed."""
    host = host_url.host
    require_site_manager(actor, host.site)
    checked = field_check("url", url_check, url, host_name=host.name)
    field_check(
        "url",
        url_unique_check,
        host_id=host.pk,
        collection_id=collection.pk,
        scheme=checked.scheme,
        exclude_id=host_url.pk,
    )
    with transaction.atomic(), acting(actor):
        row = HostURL.objects.select_for_update().get(pk=host_url.pk)
        if row.url != checked.url or row.collection_id != collection.pk:
            row.probe_state, row.probe_reason, row.probed_at = ProbeState.UNKNOWN, "", None
            row.auto_disabled, row.auto_disabled_reason, row.consecutive_failures = False, "", 0
        row.url, row.scheme, row.collection = checked.url, checked.scheme, collection
        audit_note(row, host=host.pk)
        row.save()
        _changed(host, "host_url_update")
    return row


def host_url_delete(*, actor, host_url: HostURL) -> None:
    host = host_url.host
    require_site_manager(actor, host.site)
    with transaction.atomic(), acting(actor):
        audit_note(host_url, host=host.pk)
        host_url.delete()
        _changed(host, "host_url_delete")


def netblock_create(*, actor, host: Host, cidr: str) -> Netblock:
    """Add a network whose clients are sent to this host first (operators: IPv4 /16, IPv6 /32 or narrower)."""
    require_site_manager(actor, host.site)
    cidr = field_check("cidr", cidr_normalise, cidr, admin=actor.is_staff)
    if Netblock.objects.filter(host=host, cidr=cidr).exists():
        raise ValidationError({"cidr": f"{cidr} is registered for this host already."})
    with transaction.atomic(), acting(actor):
        row = Netblock(host=host, cidr=cidr)
        audit_note(row, host=host.pk)
        row.save()
        _changed(host, "netblock_create")
    return row


def netblock_delete(*, actor, netblock: Netblock) -> None:
    host = netblock.host
    require_site_manager(actor, host.site)
    with transaction.atomic(), acting(actor):
        audit_note(netblock, host=host.pk)
        netblock.delete()
        _changed(host, "netblock_delete")


def host_country_create(*, actor, host: Host, country: str) -> HostCountry:
    """Allow clients of one more country (a host with no allowed countries serves every country)."""
    require_site_manager(actor, host.site)
    country = field_check("country", country_check, country)
    if HostCountry.objects.filter(host=host, country=country).exists():
        raise ValidationError({"country": f"{country} is allowed for this host already."})
    with transaction.atomic(), acting(actor):
        row = HostCountry(host=host, country=country)
        audit_note(row, host=host.pk)
        row.save()
        _changed(host, "host_country_create")
    return row


def host_country_delete(*, actor, host_country: HostCountry) -> None:
    host = host_country.host
    require_site_manager(actor, host.site)
    with transaction.atomic(), acting(actor):
        audit_note(host_country, host=host.pk)
        host_country.delete()
        _changed(host, "host_country_delete")


def host_peer_asn_create(*, actor, host: Host, asn: int) -> HostPeerASN:
    """Admins only: send clients of this AS to the host first (and let them see it if it is private)."""
    require_staff(actor)
    asn = field_check("asn", asn_check, asn, admin=True)
    if asn is None:
        raise ValidationError({"asn": "Give an AS number."})
    if HostPeerASN.objects.filter(host=host, asn=asn).exists():
        raise ValidationError({"asn": f"AS{asn} is a peer of this host already."})
    with transaction.atomic(), acting(actor):
        row = HostPeerASN(host=host, asn=asn)
        audit_note(row, host=host.pk)
        row.save()
        _changed(host, "host_peer_asn_create")
    return row


def host_peer_asn_delete(*, actor, peer_asn: HostPeerASN) -> None:
    require_staff(actor)
    host = peer_asn.host
    with transaction.atomic(), acting(actor):
        audit_note(peer_asn, host=host.pk)
        peer_asn.delete()
        _changed(host, "host_peer_asn_delete")
