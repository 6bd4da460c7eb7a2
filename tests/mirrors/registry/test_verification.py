"""Proof of control: the token file under the host's URL, fetched through the request-forgery guard."""

from __future__ import annotations

import socket

import pytest
from auditlog.models import LogEntry

from metadata.models import Collection
from mirrors.models import Host
from mirrors.registry import services
from mirrors.registry.selectors import verification_path
from tests.factories import HostFactory, HostURLFactory
from tests.fake_http import Redirect, Status, serve

pytestmark = pytest.mark.django_db


def host_on(server, team, *, scheme="http") -> Host:
    host = HostFactory(site=team.site, name="proof.example.org")
    HostURLFactory(host=host, scheme=scheme, url=f"{scheme}://proof.example.org:{server.port}/pypi/full/")
    return host


def token_path(host: Host) -> str:
    return "/pypi/full/" + verification_path(host)


def test_the_served_token_shows_control_and_is_audited(team, loopback_names):
    with serve() as server:
        host = host_on(server, team)
        server.routes[token_path(host)] = host.verification_token.encode() + b"\n"
        outcome = services.host_verify(actor=team.coadmin, host=host)
    assert outcome.verified, outcome.message
    assert "serves this host's token" in outcome.message
    host.refresh_from_db()
    assert host.verified_at is not None
    entry = LogEntry.objects.get_for_object(host).first()
    assert entry.actor == team.coadmin and entry.additional_data["transition"] == "control shown"


@pytest.mark.parametrize(
    ("route", "words"),
    [
        (None, "not found (HTTP 404)"),
        (b"something else", "wrong content: the file holds 'something else'"),
        (Status(500), "HTTP 500 instead of 200"),
        (Redirect("http://10.0.0.5/token"), "refused:"),
        (Redirect("http://inside.example.org/token"), "private or special address"),
    ],
)
def test_each_failure_says_what_was_found(team, loopback_names, route, words):
    with serve() as server:
        host = host_on(server, team)
        if route is not None:
            server.routes[token_path(host)] = route
        outcome = services.host_verify(actor=team.owner, host=host)
    assert not outcome.verified
    assert words in outcome.message and "Control not shown" in outcome.message
    assert Host.objects.get(pk=host.pk).verified_at is None


def test_an_unreachable_host_says_so(team, loopback_names):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens on it once closed
    host = HostFactory(site=team.site, name="gone.example.org")
    HostURLFactory(host=host, scheme="http", url=f"http://gone.example.org:{port}/pypi/full/")
    outcome = services.host_verify(actor=team.owner, host=host)
    assert not outcome.verified and "unreachable:" in outcome.message


def test_loopback_is_refused_unless_probe_allow_private(team, settings, monkeypatch):
    from core.net import guard

    monkeypatch.setattr(guard, "resolve", lambda host, port, family=0: ["127.0.0.1"])
    with serve() as server:
        host = host_on(server, team)
        server.routes[token_path(host)] = host.verification_token.encode()
        settings.PROBE_ALLOW_PRIVATE = False
        refused = services.host_verify(actor=team.owner, host=host)
        settings.PROBE_ALLOW_PRIVATE = True
        allowed = services.host_verify(actor=team.owner, host=host)
    assert not refused.verified and "refused:" in refused.message and server.requests.count(token_path(host)) == 1
    assert allowed.verified


def test_rsync_only_hosts_are_told_to_add_a_web_url(team):
    host = HostFactory(site=team.site, name="rsync.example.org")
    HostURLFactory(
        host=host, scheme="rsync", url="rsync://rsync.example.org/pypi/", collection=Collection.objects.get(slug="full")
    )
    outcome = services.host_verify(actor=team.owner, host=host)
    assert not outcome.verified and "Add an https or http URL first" in outcome.message and outcome.checks == []


def test_a_new_token_needs_control_shown_again(team):
    host = HostFactory(site=team.site, verified=True)
    old = host.verification_token
    host = services.host_token_regenerate(actor=team.owner, host=host)
    assert host.verification_token != old and host.verified_at is None
