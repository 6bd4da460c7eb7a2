"""Reads of the registry: what a user may see, the dashboard, the moderation queue, the public status."""

from __future__ import annotations

from dataclasses import dataclass

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, Q, QuerySet

from mirrors.models import Host, HostCountry, HostPeerASN, HostState, HostURL, Netblock, Site, URLScheme

VERIFICATION_PATH = ".well-known/mirrormanager-{host_id}.txt"


def user_can_manage_site(user, site: Site) -> bool:
    """The site's owner, one of its co-admins, or a project admin (staff)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff or site.owner_id == user.pk:
        return True
    return site.admins.filter(pk=user.pk).exists()


def sites_for_user(user) -> QuerySet[Site]:
    """The sites a user manages (every site for project admins), each once."""
    if user is None or not user.is_authenticated:
        return Site.objects.none()
    sites = Site.objects.all()
    if not user.is_staff:
        sites = sites.filter(Q(owner=user) | Q(admins=user)).distinct()
    return sites.select_related("owner")


def hosts_for_user(user) -> QuerySet[Host]:
    """The hosts of the sites a user manages."""
    return Host.objects.filter(site__in=sites_for_user(user)).select_related("site")


def host_urls_for_user(user) -> QuerySet[HostURL]:
    return HostURL.objects.filter(host__in=hosts_for_user(user)).select_related("host", "collection")


def netblocks_for_user(user) -> QuerySet[Netblock]:
    return Netblock.objects.filter(host__in=hosts_for_user(user)).select_related("host")


def host_countries_for_user(user) -> QuerySet[HostCountry]:
    return HostCountry.objects.filter(host__in=hosts_for_user(user)).select_related("host")


def peer_asns_for_user(user) -> QuerySet[HostPeerASN]:
    return HostPeerASN.objects.filter(host__in=hosts_for_user(user)).select_related("host")


def verification_path(host: Host) -> str:
    """Where, relative to each of the host's http(s) URLs, the operator serves the verification token."""
    return VERIFICATION_PATH.format(host_id=host.pk)


@dataclass(frozen=True)
class NextStep:
    """What an operator should do next about a host, for the dashboard."""

    text: str
    tone: str  # ok, warn or bad: the colour it is shown in


def host_next_step(host: Host) -> NextStep:
    """The one thing that stands between this host and being listed (or why it is not)."""
    web_urls = [u for u in host.urls.all() if u.scheme in (URLScheme.HTTPS, URLScheme.HTTP)]
    if host.state == HostState.REJECTED:
        return NextStep(f"Rejected: {host.state_reason or 'no reason given'}. Delete it or contact the admins.", "bad")
    if host.state == HostState.DISABLED:
        return NextStep(f"Disabled by an admin: {host.state_reason or 'no reason given'}.", "bad")
    if not host.urls.all():
        return NextStep("Add the URL of at least one collection you carry.", "warn")
    if host.verified_at is None:
        if not web_urls:
            return NextStep("Add an https or http URL so that the origin can check your verification file.", "warn")
        return NextStep("Serve the verification file and press “Check now” to show you control this host.", "warn")
    if host.state == HostState.PENDING:
        return NextStep("Control shown. Waiting for a project admin to review it.", "ok")
    if not host.enabled:
        return NextStep("Approved, but switched off by you: switch it on to be listed.", "warn")
    return NextStep("Approved and listed where its probes find it current.", "ok")


def dashboard_sites(user) -> QuerySet[Site]:
    """The sites the user owns or co-admins (project admins too: theirs, not everyone's), for /my/sites/."""
    hosts = Host.objects.prefetch_related("urls__collection")
    own = Site.objects.filter(Q(owner=user) | Q(admins=user)).distinct().select_related("owner")
    return own.prefetch_related(Prefetch("hosts", queryset=hosts), "admins")


def moderation_queue(*, state: str = HostState.PENDING) -> QuerySet[Host]:
    """Hosts in one state, oldest first, with what a moderator needs to judge them."""
    return (
        Host.objects.filter(state=state)
        .select_related("site", "site__owner")
        .prefetch_related("urls__collection", "netblocks", "allowed_countries", "peer_asns")
        .order_by("created_at")
    )


def audit_trail(host: Host, *, limit: int = 100) -> list[LogEntry]:
    """Every audit entry of a host and of its URLs, netblocks, countries and peer ASNs, newest first.

    The services note the host's id on every entry of those rows, so deleted rows are found too.
    """
    children = [ContentType.objects.get_for_model(model) for model in (HostURL, Netblock, HostCountry, HostPeerASN)]
    condition = Q(content_type=ContentType.objects.get_for_model(Host), object_pk=str(host.pk))
    condition |= Q(content_type__in=children, additional_data__host=host.pk)
    return list(LogEntry.objects.filter(condition).select_related("actor").order_by("-timestamp", "-pk")[:limit])


def public_hosts(*, country: str = "", collection: str = "", protocol: str = "") -> QuerySet[Host]:
    """Approved public hosts with their URLs, filtered; private hosts never."""
    hosts = Host.objects.filter(state=HostState.APPROVED, private=False).select_related("site")
    urls = HostURL.objects.select_related("collection").filter(collection__public=True)
    if country:
        hosts = hosts.filter(country=country.upper())
    if collection:
        hosts = hosts.filter(urls__collection__slug=collection)
        urls = urls.filter(collection__slug=collection)
    if protocol:
        hosts = hosts.filter(urls__scheme=protocol)
        urls = urls.filter(scheme=protocol)
    return hosts.distinct().prefetch_related(Prefetch("urls", queryset=urls)).order_by("country", "name")
