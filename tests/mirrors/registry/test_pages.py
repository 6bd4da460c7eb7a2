"""The registry's pages: who may open each, forms with their messages, CSRF on every form, throttled log-in."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from mirrors.models import Host, HostState, Netblock
from tests.factories import HostCountryFactory, HostURLFactory, NetblockFactory, SiteInvitationFactory

pytestmark = pytest.mark.django_db
PEOPLE = ["anonymous", "other", "owner", "coadmin", "admin"]


def client_for(team, who: str) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(getattr(team, who))
    return client


def ids(team) -> dict[str, int]:
    return {
        "site": team.site.pk,
        "host": team.host.pk,
        "url": team.host.urls.get().pk,
        "netblock": NetblockFactory(host=team.host).pk,
        "country": HostCountryFactory(host=team.host).pk,
    }


OPERATOR_PAGES = [
    "/my/sites/{site}/",
    "/my/sites/{site}/edit/",
    "/my/sites/{site}/delete/",
    "/my/sites/{site}/hosts/new/",
    "/my/hosts/{host}/",
    "/my/hosts/{host}/edit/",
    "/my/hosts/{host}/delete/",
    "/my/urls/{url}/edit/",
]


@pytest.mark.parametrize("path", OPERATOR_PAGES)
def test_who_may_open_operator_pages(team, path):
    url = path.format(**ids(team))
    answers = [client_for(team, who).get(url) for who in PEOPLE]
    assert answers[0].status_code == 302 and answers[0]["Location"].startswith("/accounts/login/")
    assert [answer.status_code for answer in answers[1:]] == [404, 200, 200, 200]


@pytest.mark.parametrize(
    "path",
    [
        "/my/sites/{site}/invite/",
        "/my/hosts/{host}/verify/",
        "/my/hosts/{host}/switch/",
        "/my/hosts/{host}/new-token/",
        "/my/hosts/{host}/urls/new/",
        "/my/urls/{url}/delete/",
        "/my/hosts/{host}/netblocks/new/",
        "/my/netblocks/{netblock}/delete/",
        "/my/hosts/{host}/countries/new/",
        "/my/countries/{country}/delete/",
    ],
)
def test_another_operator_gets_404_for_every_post(team, path):
    url = path.format(**ids(team))
    assert client_for(team, "anonymous").post(url).status_code == 302
    assert client_for(team, "other").post(url, {"cidr": "192.0.2.0/24", "email": "x@example.org"}).status_code == 404
    assert Netblock.objects.filter(cidr="192.0.2.0/24").count() == 0


@pytest.mark.parametrize("path", ["/my/sites/", "/my/sites/new/", "/my/token/"])
def test_own_pages_need_login_only(team, path):
    assert client_for(team, "anonymous").get(path).status_code == 302
    assert [client_for(team, who).get(path).status_code for who in PEOPLE[1:]] == [200, 200, 200, 200]


def test_the_dashboard_shows_only_my_sites_with_the_next_step(team):
    html = client_for(team, "owner").get("/my/sites/").content.decode()
    assert "Example Mirrors" in html and "Someone else" not in html
    assert "Serve the verification file" in html or "press “Check now”" in html
    assert "Example Mirrors" not in client_for(team, "other").get("/my/sites/").content.decode()
    # A project admin's dashboard is their own too; other sites are reached from Moderation or the admin.
    assert "Example Mirrors" not in client_for(team, "admin").get("/my/sites/").content.decode()


@pytest.mark.parametrize("path", ["/moderation/", "/moderation/hosts/{host}/"])
def test_moderation_pages_are_for_staff(team, path):
    url = path.format(**ids(team))
    for who in ["anonymous", "other", "owner", "coadmin"]:
        answer = client_for(team, who).get(url)
        assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")
    assert client_for(team, "admin").get(url).status_code == 200


def test_moderation_queue_shows_control_and_decisions_email_the_reason(team, django_capture_on_commit_callbacks):
    admin = client_for(team, "admin")
    html = admin.get("/moderation/").content.decode()
    assert "mirror.example.org" in html and "not shown" in html and "Reject mirror.example.org" in html
    refused = admin.post(f"/moderation/hosts/{team.host.pk}/approve/", {"reason": "ok"}, follow=True)
    assert "has not shown control" in refused.content.decode()
    assert Host.objects.get(pk=team.host.pk).state == HostState.PENDING
    missing = admin.post(f"/moderation/hosts/{team.host.pk}/reject/", {"reason": ""})
    assert missing.status_code == 400 and "This field is required" in missing.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = admin.post(f"/moderation/hosts/{team.host.pk}/reject/", {"reason": "no such machine"}, follow=True)
    assert "Rejected mirror.example.org" in done.content.decode()
    assert "no such machine" in mail.outbox[-1].body
    review = admin.get(f"/moderation/hosts/{team.host.pk}/").content.decode()
    assert "Reason: no such machine" in review and "root" in review


def test_forms_show_each_bad_input_on_its_field(team):
    owner = client_for(team, "owner")
    answer = owner.post(f"/my/hosts/{team.host.pk}/netblocks/new/", {"cidr": "192.0.2.1/24"})
    assert answer.status_code == 400 and "the network is 192.0.2.0/24" in answer.content.decode()
    answer = owner.post(f"/my/hosts/{team.host.pk}/urls/new/", {"collection": "full", "url": "https://x.example.org/"})
    assert "a host&#x27;s URLs must be on its own name" in answer.content.decode()
    answer = owner.post(
        f"/my/sites/{team.site.pk}/hosts/new/", {"name": "1.2.3.4", "country": "DE", "bandwidth_mbps": 10}
    )
    assert "is an IP address" in answer.content.decode()
    answer = owner.post(
        f"/my/sites/{team.site.pk}/hosts/new/",
        {"name": "a.example.org", "country": "DE", "bandwidth_mbps": 10, "asn": "23456"},
    )
    assert "AS_TRANS" in answer.content.decode() and 'aria-invalid="true"' in answer.content.decode()
    answer = owner.post("/my/sites/new/", {"name": "Example Mirrors", "contact_email": "a@example.org"})
    assert "exists already" in answer.content.decode()
    assert Host.objects.count() == 1


def test_operator_creates_and_edits_everything_through_the_pages(team):
    owner = client_for(team, "coadmin")
    answer = owner.post(
        f"/my/sites/{team.site.pk}/hosts/new/", {"name": "New.Example.org", "country": "JP", "bandwidth_mbps": 100}
    )
    host = Host.objects.get(name="new.example.org")
    assert answer["Location"] == f"/my/hosts/{host.pk}/" and host.continent == "AS"
    owner.post(f"/my/hosts/{host.pk}/urls/new/", {"collection": "full", "url": "https://new.example.org/pypi/full"})
    owner.post(f"/my/hosts/{host.pk}/netblocks/new/", {"cidr": "2001:db8::/48"})
    owner.post(f"/my/hosts/{host.pk}/countries/new/", {"country": "JP"})
    owner.post(f"/my/hosts/{host.pk}/edit/", {"country": "KR", "bandwidth_mbps": 200})
    owner.post(f"/my/hosts/{host.pk}/switch/", {"enabled": "off"})
    host.refresh_from_db()
    assert (host.country.code, host.bandwidth_mbps, host.enabled) == ("KR", 200, False)
    page = owner.get(f"/my/hosts/{host.pk}/").content.decode()
    assert "https://new.example.org/pypi/full/.well-known/mirrormanager-" in page and "2001:db8::/48" in page
    assert "Not probed yet" in page and "switched off" in page and "Japan" in page
    url = host.urls.get()
    owner.post(f"/my/urls/{url.pk}/edit/", {"collection": "full", "url": "https://new.example.org/other"})
    assert host.urls.get().url == "https://new.example.org/other/"
    owner.post(f"/my/hosts/{host.pk}/delete/")
    assert not Host.objects.filter(pk=host.pk).exists()


def test_invitations_make_co_admins(team):
    invitation = SiteInvitationFactory(site=team.site)
    assert "Log in to accept" in Client().get(f"/invitations/{invitation.token}/").content.decode()
    stranger = client_for(team, "other")
    assert stranger.post(f"/invitations/{invitation.token}/")["Location"] == f"/my/sites/{team.site.pk}/"
    assert team.other in team.site.admins.all()
    assert stranger.get(f"/invitations/{invitation.token}/").status_code == 400
    assert Client().get("/invitations/nonsense/").status_code == 400


def test_api_token_page_shows_regenerates_and_revokes(team):
    owner = client_for(team, "owner")
    assert "You have no token" in owner.get("/my/token/").content.decode()
    owner.post("/my/token/", {"action": "regenerate"})
    first = team.owner.auth_token.key
    assert first in owner.get("/my/token/").content.decode()
    owner.post("/my/token/", {"action": "regenerate"})
    team.owner.refresh_from_db()
    assert team.owner.auth_token.key != first
    owner.post("/my/token/", {"action": "revoke"})
    assert "You have no token" in owner.get("/my/token/").content.decode()


def test_signup_confirmation_login_and_password_reset(db, django_capture_on_commit_callbacks):
    client = Client()
    data = {"username": "newop", "email": "newop@example.org", "password1": "a-long-pass-phrase", "password2": "x"}
    assert "The two passwords differ" in client.post("/accounts/signup/", data).content.decode()
    data["password2"] = data["password1"]
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/accounts/signup/", data)
    assert "We sent a confirmation link to" in answer.content.decode()
    refused = client.post("/accounts/login/", {"username": "newop", "password": "a-long-pass-phrase"})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    link = re.search(r"http://testserver(/accounts/confirm/\S+)", mail.outbox[0].body).group(1)
    assert client.get(link)["Location"] == "/accounts/login/"
    assert client.get(link).status_code == 400
    logged = client.post("/accounts/login/", {"username": "newop", "password": "a-long-pass-phrase"})
    assert logged["Location"] == "/my/sites/"
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/accounts/password-reset/", {"email": "newop@example.org"})
    reset = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[-1].body).group(1)
    form = Client()
    follow = form.get(reset, follow=True)
    assert "Choose a new password" in follow.content.decode()
    done = form.post(
        follow.redirect_chain[-1][0], {"new_password1": "another-long-phrase", "new_password2": "another-long-phrase"}
    )
    assert done["Location"] == "/accounts/reset/done/"


def test_web_login_is_throttled(db, settings, operator_user):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(2):
        assert client.post("/accounts/login/", {"username": "operator", "password": "nope"}).status_code == 200
    locked = client.post("/accounts/login/", {"username": "operator", "password": "nope"})
    assert locked.status_code == 429 and "Too many failed log-in attempts" in locked.content.decode()
    right = client.post("/accounts/login/", {"username": "operator", "password": "operator-pass-1234"})
    assert right.status_code == 429 and "_auth_user_id" not in client.session


def test_public_status_lists_approved_public_hosts_and_filters(db):
    shown = HostURLFactory(host__approved=True, host__country="FR").host
    HostURLFactory(host__approved=True, host__private=True, host__name="secret.example.org")
    HostURLFactory(host__name="waiting.example.org")
    html = Client().get("/mirrors/").content.decode()
    assert shown.name in html and "secret.example.org" not in html and "waiting.example.org" not in html
    assert "Not probed yet" in html and "France" in html
    assert shown.name not in Client().get("/mirrors/?country=DE").content.decode()
    assert shown.name in Client().get("/mirrors/?country=FR&protocol=https&collection=full").content.decode()
    assert Client().get("/mirrors/?protocol=ftp").status_code == 400


CSRF_POSTS = [
    ("/accounts/signup/", "anonymous"),
    ("/accounts/password-reset/", "anonymous"),
    ("/my/sites/new/", "owner"),
    ("/my/sites/{site}/edit/", "owner"),
    ("/my/sites/{site}/delete/", "owner"),
    ("/my/sites/{site}/invite/", "owner"),
    ("/my/sites/{site}/hosts/new/", "owner"),
    ("/my/hosts/{host}/edit/", "owner"),
    ("/my/hosts/{host}/delete/", "owner"),
    ("/my/hosts/{host}/verify/", "owner"),
    ("/my/hosts/{host}/switch/", "owner"),
    ("/my/hosts/{host}/new-token/", "owner"),
    ("/my/hosts/{host}/urls/new/", "owner"),
    ("/my/urls/{url}/edit/", "owner"),
    ("/my/urls/{url}/delete/", "owner"),
    ("/my/hosts/{host}/netblocks/new/", "owner"),
    ("/my/netblocks/{netblock}/delete/", "owner"),
    ("/my/hosts/{host}/countries/new/", "owner"),
    ("/my/countries/{country}/delete/", "owner"),
    ("/my/token/", "owner"),
    ("/moderation/hosts/{host}/approve/", "admin"),
    ("/moderation/hosts/{host}/reject/", "admin"),
]


@pytest.mark.parametrize(("path", "who"), CSRF_POSTS)
def test_every_form_refuses_a_post_without_its_csrf_token(team, path, who):
    strict = Client(enforce_csrf_checks=True)
    if who != "anonymous":
        strict.force_login(getattr(team, who))
    url = path.format(**ids(team))
    before = (Host.objects.count(), Netblock.objects.count(), team.host.urls.count())
    answer = strict.post(url, {"reason": "x", "cidr": "192.0.2.0/24", "override": "on", "name": "n", "country": "DE"})
    assert answer.status_code == 403
    assert Host.objects.get(pk=team.host.pk).state == HostState.PENDING
    assert (Host.objects.count(), Netblock.objects.count(), team.host.urls.count()) == before


def test_every_form_page_carries_a_csrf_token(team):
    owner = client_for(team, "owner")
    pages = ["/my/sites/new/", f"/my/sites/{team.site.pk}/", f"/my/hosts/{team.host.pk}/", "/my/token/"]
    for page in pages:
        html = owner.get(page).content.decode()
        assert html.count("<form") == html.count("csrfmiddlewaretoken"), page
    admin_html = client_for(team, "admin").get("/moderation/").content.decode()
    assert admin_html.count("<form") == admin_html.count("csrfmiddlewaretoken")


@pytest.mark.parametrize(
    "model", ["site", "siteinvitation", "host", "hosturl", "netblock", "hostcountry", "hostpeerasn"]
)
def test_the_django_admin_lists_and_searches_every_registry_model(team, model):
    SiteInvitationFactory(site=team.site)
    admin = client_for(team, "admin")
    assert admin.get(f"/admin/mirrors/{model}/").status_code == 200
    assert admin.get(f"/admin/mirrors/{model}/?q=example").status_code == 200
    assert admin.get(f"/admin/mirrors/{model}/add/").status_code == 200
    assert admin.get(f"/admin/mirrors/host/{team.host.pk}/change/").status_code == 200
