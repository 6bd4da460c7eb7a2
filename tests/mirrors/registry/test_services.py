"""Each service: its rules, its audit entry (who, what, why), its emails and its change signal."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from metadata.models import Collection
from mirrors.models import Host, HostState, HostURL
from mirrors.registry import services
from mirrors.registry.errors import ControlNotShown, TransitionRefused
from mirrors.registry.selectors import audit_trail
from mirrors.signals import registry_changed
from tests.factories import HostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signals():
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    registry_changed.connect(receiver)
    yield received
    registry_changed.disconnect(receiver)


def test_a_new_host_is_pending_with_a_token_and_its_continent(team, on_commit, signals):
    with on_commit():
        host = services.host_create(
            actor=team.coadmin, site=team.site, name="Fast.Example.NET", country="br", bandwidth_mbps=500, asn=3320
        )
    assert (host.name, host.country.code, host.continent, host.state) == ("fast.example.net", "BR", "SA", "pending")
    assert len(host.verification_token) >= 32 and host.verified_at is None
    entry = LogEntry.objects.get_for_object(host).get()
    assert entry.action == LogEntry.Action.CREATE and entry.actor == team.coadmin
    assert "verification_token" not in entry.changes or "*" in str(entry.changes["verification_token"])
    assert signals == [
        {"signal": registry_changed, "change": "host_create", "host_ids": (host.pk,), "site_id": team.site.pk}
    ]


def test_host_create_refuses_strangers_bad_input_and_taken_names(team):
    with pytest.raises(PermissionDenied):
        services.host_create(actor=team.other, site=team.site, name="x.example.org", country="DE")
    with pytest.raises(ValidationError) as caught:
        services.host_create(actor=team.owner, site=team.site, name="mirror.example.org", country="DE")
    assert "registered already" in str(caught.value.message_dict["name"])
    with pytest.raises(ValidationError) as caught:
        services.host_create(actor=team.owner, site=team.site, name="y.example.org", country="ZZ", asn=64512)
    assert "country" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.host_create(actor=team.owner, site=team.site, name="y.example.org", country="DE", asn=64512)
    assert "private use" in caught.value.message_dict["asn"][0]
    # Admins may register documentation or private AS numbers (a lab, a test network).
    assert (
        services.host_create(actor=team.admin, site=team.site, name="y.example.org", country="DE", asn=64512).asn
        == 64512
    )


def test_approve_needs_control_shown_or_an_override_which_is_recorded(team, on_commit, signals):
    with pytest.raises(ControlNotShown, match="has not shown control"):
        services.host_approve(actor=team.admin, host=team.host, reason="looks fine")
    assert Host.objects.get(pk=team.host.pk).state == HostState.PENDING
    with on_commit():
        host = services.host_approve(actor=team.admin, host=team.host, reason="known university", override=True)
    assert host.state == HostState.APPROVED and host.state_reason == "known university"
    entry = audit_trail(host)[0]
    assert entry.actor == team.admin
    assert entry.additional_data == {"transition": "approve", "reason": "known university", "override": True}
    assert entry.changes["state"] == ["pending", "approved"]
    [message] = mail.outbox
    assert message.subject == "[mirrormanager] mirror.example.org is approved"
    assert "Reason: known university" in message.body
    assert set(message.to) == {"noc@example.org", "owner@example.org", "coadmin@example.org"}
    assert signals[-1]["change"] == "host_approve"


def test_reject_disable_enable_each_email_their_reason(team, on_commit):
    with pytest.raises(ValidationError, match="Give a reason"):
        services.host_reject(actor=team.admin, host=team.host, reason="  ")
    with on_commit():
        services.host_reject(actor=team.admin, host=team.host, reason="not a mirror")
    assert mail.outbox[-1].subject.endswith("was rejected") and "not a mirror" in mail.outbox[-1].body
    with pytest.raises(TransitionRefused, match="it is rejected"):
        services.host_disable(actor=team.admin, host=team.host, reason="x")
    team.host.refresh_from_db()
    team.host.verified_at = team.host.created_at
    team.host.save()
    with on_commit():
        services.host_approve(actor=team.admin, host=team.host)
        services.host_disable(actor=team.admin, host=team.host, reason="serves malware")
    assert Host.objects.get(pk=team.host.pk).state == HostState.DISABLED
    assert "serves malware" in mail.outbox[-1].body
    with on_commit():
        host = services.host_enable(actor=team.admin, host=team.host, reason="cleaned up")
    assert host.state == HostState.APPROVED and mail.outbox[-1].subject.endswith("is enabled again")
    transitions = [entry.additional_data["transition"] for entry in audit_trail(host) if entry.additional_data]
    assert transitions[:4] == ["enable", "disable", "approve", "reject"]
    assert len(mail.outbox) == 4


@pytest.mark.parametrize("who", ["owner", "coadmin", "other"])
def test_only_admins_moderate(team, who):
    with pytest.raises(PermissionDenied):
        services.host_approve(actor=getattr(team, who), host=team.host, override=True)


def test_a_rolled_back_decision_sends_nothing(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.host_reject(actor=team.admin, host=team.host, reason="no")
    assert mail.outbox == [] and callbacks  # queued for the commit, not sent before it


def test_operator_switch_is_audited_and_keeps_the_state(team, on_commit, signals):
    host = HostFactory(site=team.site, approved=True)
    with on_commit():
        host = services.host_set_enabled(actor=team.owner, host=host, enabled=False)
    assert (host.enabled, host.state) == (False, HostState.APPROVED)
    assert audit_trail(host)[0].additional_data == {"transition": "switched off"}
    assert signals[-1]["change"] == "host_set_enabled" and mail.outbox == []
    with pytest.raises(PermissionDenied):
        services.host_set_enabled(actor=team.other, host=host, enabled=True)


def test_an_approved_host_stays_approved_when_its_urls_and_netblocks_change(team, on_commit):
    host = HostFactory(site=team.site, approved=True, name="live.example.org")
    full = Collection.objects.get(slug="full")
    with on_commit():
        url = services.host_url_create(
            actor=team.owner, host=host, collection=full, url="https://LIVE.example.org/pypi"
        )
        services.host_url_update(actor=team.coadmin, host_url=url, collection=full, url="https://live.example.org/p/")
        block = services.netblock_create(actor=team.owner, host=host, cidr="198.51.100.0/24")
        services.netblock_delete(actor=team.owner, netblock=block)
        country = services.host_country_create(actor=team.owner, host=host, country="fr")
        services.host_country_delete(actor=team.owner, host_country=country)
    host.refresh_from_db()
    assert host.state == HostState.APPROVED
    assert HostURL.objects.get(pk=url.pk).url == "https://live.example.org/p/"
    trail = audit_trail(host)
    kinds = [(entry.content_type.model, entry.action) for entry in trail]
    assert ("netblock", LogEntry.Action.DELETE) in kinds and ("hosturl", LogEntry.Action.UPDATE) in kinds
    assert ("hostcountry", LogEntry.Action.CREATE) in kinds
    update = next(entry for entry in trail if entry.content_type.model == "hosturl" and entry.action == 1)
    assert update.actor == team.coadmin and update.changes["url"][1] == "https://live.example.org/p/"


def test_one_url_per_host_collection_and_scheme(team):
    full = Collection.objects.get(slug="full")
    with pytest.raises(ValidationError) as caught:
        services.host_url_create(actor=team.owner, host=team.host, collection=full, url="https://mirror.example.org/b/")
    assert "already has a https URL for that collection" in caught.value.message_dict["url"][0]
    services.host_url_create(actor=team.owner, host=team.host, collection=full, url="rsync://mirror.example.org/b/")


def test_netblock_rules_for_operators_and_admins(team):
    with pytest.raises(ValidationError) as caught:
        services.netblock_create(actor=team.owner, host=team.host, cidr="10.0.0.0/8")
    assert "wider than /16" in caught.value.message_dict["cidr"][0]
    assert services.netblock_create(actor=team.admin, host=team.host, cidr="10.0.0.0/8").cidr == "10.0.0.0/8"
    with pytest.raises(ValidationError, match="registered for this host already"):
        services.netblock_create(actor=team.admin, host=team.host, cidr="10.0.0.0/8")
    with pytest.raises(PermissionDenied):
        services.netblock_create(actor=team.other, host=team.host, cidr="192.0.2.0/24")


def test_peer_asns_are_for_admins(team):
    with pytest.raises(PermissionDenied):
        services.host_peer_asn_create(actor=team.owner, host=team.host, asn=3320)
    row = services.host_peer_asn_create(actor=team.admin, host=team.host, asn="AS3320")
    assert row.asn == 3320 and audit_trail(team.host)[0].content_type.model == "hostpeerasn"


def test_sites_invitations_and_co_admins(team, on_commit):
    site = services.site_create(actor=team.other, name="New Site", contact_email="n@example.org")
    with pytest.raises(ValidationError) as caught:
        services.site_create(actor=team.other, name="new site", contact_email="not-an-address")
    assert set(caught.value.message_dict) == {"name", "contact_email"}
    with on_commit():
        invitation = services.site_invite(
            actor=team.other, site=site, email="coadmin@example.org", base_url="https://o.example"
        )
    assert f"https://o.example/invitations/{invitation.token}/" in mail.outbox[-1].body
    assert services.site_invitation_accept(actor=team.coadmin, token=invitation.token) == site
    assert list(site.admins.all()) == [team.coadmin]
    with pytest.raises(ValidationError, match="used already"):
        services.site_invitation_accept(actor=team.owner, token=invitation.token)
    with pytest.raises(PermissionDenied):
        services.site_delete(actor=team.coadmin, site=site)
    services.site_delete(actor=team.other, site=site)


def test_signup_sends_a_link_that_activates_once(db, on_commit):
    with on_commit():
        user = services.account_signup(
            username="newop", email="newop@example.org", password="a-long-pass-phrase", base_url="https://o.example/"
        )
    assert not user.is_active
    link = next(line for line in mail.outbox[0].body.splitlines() if line.startswith("https://o.example/accounts/"))
    uid, token = link.rstrip("/").split("/")[-2:]
    assert services.account_confirm(uidb64=uid, token=token) == user
    assert services.account_confirm(uidb64=uid, token=token) is None
    with pytest.raises(ValidationError) as caught:
        services.account_signup(username="NewOp", email="NEWOP@example.org", password="short", base_url="https://o/")
    assert set(caught.value.message_dict) == {"username", "email"}
    with pytest.raises(ValidationError) as caught:
        services.account_signup(username="third", email="third@example.org", password="123", base_url="https://o/")
    assert "password1" in caught.value.message_dict
