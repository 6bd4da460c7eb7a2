"""The registry's demo rows: several countries and every state, made once."""

from __future__ import annotations

import pytest

from mirrormanager.demo import demo_accounts_ensure
from mirrors.models import Host
from mirrors.registry.demo import demo_registry_ensure

pytestmark = pytest.mark.django_db


def test_demo_registry_has_every_state_and_a_private_host(django_capture_on_commit_callbacks):
    demo_accounts_ensure()
    lines: list[str] = []
    with django_capture_on_commit_callbacks(execute=True):
        demo_registry_ensure(lines.append)
        demo_registry_ensure(lines.append)
    assert len(lines) == 2
    hosts = {host.name: host for host in Host.objects.prefetch_related("netblocks")}
    assert {host.state for host in hosts.values()} == {"pending", "approved", "rejected", "disabled"}
    assert len({host.country.code for host in hosts.values()}) == 5
    private = hosts["campus.research.example"]
    assert private.private and private.state == "approved" and private.netblocks.count() == 2
