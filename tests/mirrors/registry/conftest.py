"""People and rows for the registry's tests: an owner, a co-admin, another operator and a project admin."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mirrors.models import Host, Site
from tests.factories import AdminFactory, HostFactory, HostURLFactory, SiteFactory, UserFactory


@dataclass
class Team:
    owner: object
    coadmin: object
    other: object
    admin: object
    site: Site
    host: Host


@pytest.fixture
def team(db) -> Team:
    owner, coadmin, other = (
        UserFactory(username="owner"),
        UserFactory(username="coadmin"),
        UserFactory(username="other"),
    )
    site = SiteFactory(name="Example Mirrors", owner=owner, contact_email="noc@example.org")
    site.admins.add(coadmin)
    SiteFactory(name="Someone else's", owner=other)
    host = HostFactory(site=site, name="mirror.example.org", country="DE")
    HostURLFactory(host=host)
    return Team(owner=owner, coadmin=coadmin, other=other, admin=AdminFactory(username="root"), site=site, host=host)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (emails, the change signal) inside a test transaction."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def loopback_names(monkeypatch):
    """Names under example.org resolve to 127.0.0.1, which the guard treats as public; other names fail.

    So proof of control runs with PROBE_ALLOW_PRIVATE off while all traffic stays on this machine.
    """
    from core.net import guard

    real_allowed = guard.address_allowed
    answers = {"inside.example.org": ["10.0.0.5"]}

    def fake_resolve(host, port, family=0):
        if host in answers:
            return list(answers[host])
        if host.endswith(".example.org"):
            return ["127.0.0.1"]
        raise guard.FetchFailed(f"could not resolve {host}: no such name")

    monkeypatch.setattr(guard, "resolve", fake_resolve)
    monkeypatch.setattr(
        guard,
        "address_allowed",
        lambda address, *, allow_private: address == "127.0.0.1" or real_allowed(address, allow_private=allow_private),
    )
    return answers
