"""The registry's part of `manage.py demo`: sites and hosts in several countries and states.

The probes part adds approved mirrors with live URLs; these show the other states (pending, rejected,
disabled) and a private host with netblocks. Made through the services, so the audit trail has them too.
Their names are under the reserved .example top-level domain, so a probe of them never reaches anyone;
their URLs are never due for a probe either, since every scheduled run would find them unresolvable and,
beside the network's own failing mirrors, make most of the run fail: a void run, and an email, every hour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from metadata.models import Collection
from mirrors.models import Host, HostURL
from mirrors.registry import services

NEVER_DUE = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DemoHost:
    name: str
    country: str
    state: str  # pending, approved, rejected or disabled
    private: bool = False
    verified: bool = True
    reason: str = ""
    netblocks: tuple[str, ...] = ()


DEMO_SITES = {
    "Example University Mirrors": [
        DemoHost("pypi.university.example", "DE", "pending"),
        DemoHost("fr.university.example", "FR", "rejected", reason="The host name belongs to another organisation."),
        DemoHost("us.university.example", "US", "disabled", reason="Served a stale tree for a week."),
    ],
    "Example Research Network": [
        DemoHost(
            "campus.research.example", "JP", "approved", private=True, reason="Campus-only mirror.",
            netblocks=("192.0.2.0/24", "2001:db8:100::/48"),
        ),
        DemoHost("br.research.example", "BR", "pending", verified=False),
    ],
}  # fmt: skip


def demo_registry_ensure(log: Callable[[str], None]) -> None:
    """Create the demo sites and hosts once (owned by the demo operator, moderated by the demo admin)."""
    users = get_user_model().objects
    operator, admin = users.get(username="operator"), users.get(username="admin")
    full = Collection.objects.get(slug="full")
    for site_name, hosts in DEMO_SITES.items():
        if operator.owned_sites.filter(name=site_name).exists():
            continue
        site = services.site_create(actor=operator, name=site_name, contact_email=operator.email)
        for spec in hosts:
            if Host.objects.filter(name=spec.name).exists():
                continue
            _demo_host(site=site, spec=spec, operator=operator, admin=admin, collection=full)
        log(f"registered demo site {site_name!r} with {len(hosts)} hosts")


def _demo_host(*, site, spec: DemoHost, operator, admin, collection: Collection) -> None:
    host = services.host_create(actor=operator, site=site, name=spec.name, country=spec.country, private=spec.private)
    for scheme in ("https", "rsync"):
        url = f"{scheme}://{spec.name}/pypi/{collection.slug}/"
        services.host_url_create(actor=operator, host=host, collection=collection, url=url)
    HostURL.objects.filter(host=host).update(next_probe_at=NEVER_DUE)
    for cidr in spec.netblocks:
        services.netblock_create(actor=operator, host=host, cidr=cidr)
    if spec.verified:
        # The demo's names do not resolve: control is marked as shown instead of fetched.
        Host.objects.filter(pk=host.pk).update(verified_at=timezone.now())
    if spec.state == "rejected":
        services.host_reject(actor=admin, host=host, reason=spec.reason)
    elif spec.state in ("approved", "disabled"):
        services.host_approve(actor=admin, host=host, reason="Demo mirror.")
        if spec.state == "disabled":
            services.host_disable(actor=admin, host=host, reason=spec.reason)
