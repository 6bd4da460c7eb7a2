"""The registry API, call by call as DESIGN.md's contract table has it, and its error shape."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core import mail
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from mirrors.models import Host, Site
from mirrors.registry.selectors import verification_path
from tests.factories import HostFactory, HostURLFactory, NetblockFactory, UserFactory
from tests.fake_http import serve

pytestmark = pytest.mark.django_db


def token_client(username: str, password: str = "pass-word-1234") -> APIClient:
    client = APIClient()
    answer = client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert answer.status_code == 200, answer.content
    assert set(answer.json()) == {"token"}
    client.credentials(HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")
    return client


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_operator_flow_of_the_contract_table(db, loopback_names, django_capture_on_commit_callbacks):
    UserFactory(username="alice", email="alice@example.org")
    admin = UserFactory(username="boss", is_staff=True, is_superuser=True)
    api = token_client("alice")

    site = api.post("/api/v1/sites/", {"name": "Alice Mirrors", "contact_email": "noc@alice.example"}, format="json")
    assert site.status_code == 201 and isinstance(site.json()["id"], int)
    host = api.post(
        "/api/v1/hosts/",
        {"site": site.json()["id"], "name": "mirror.example.org", "country": "DE", "bandwidth_mbps": 1000,
         "private": False, "asn": 3320},
        format="json",
    )  # fmt: skip
    assert host.status_code == 201, host.content
    host = host.json()
    assert (host["state"], host["continent"], host["country"]) == ("pending", "EU", "DE")
    assert host["verification"]["verified"] is False and host["verification"]["token"]
    assert host["verification"]["path"] == f".well-known/mirrormanager-{host['id']}.txt"

    with serve() as server:
        base = f"http://mirror.example.org:{server.port}/pypi/full"
        url = api.post("/api/v1/host-urls/", {"host": host["id"], "collection": "full", "url": base}, format="json")
        assert url.status_code == 201 and url.json()["url"] == base + "/" and url.json()["scheme"] == "http"
        block = api.post("/api/v1/netblocks/", {"host": host["id"], "cidr": "198.51.100.0/24"}, format="json")
        assert block.status_code == 201 and block.json()["cidr"] == "198.51.100.0/24"

        failed = api.post(f"/api/v1/hosts/{host['id']}/verify/")
        assert failed.status_code == 400
        assert "not found (HTTP 404)" in failed.json()["detail"] and failed.json()["checks"][0]["ok"] is False
        server.routes["/pypi/full/" + host["verification"]["path"]] = host["verification"]["token"].encode()
        verified = api.post(f"/api/v1/hosts/{host['id']}/verify/")
    assert verified.status_code == 200 and verified.json()["verification"]["verified"] is True

    detail = api.get(f"/api/v1/hosts/{host['id']}/").json()
    assert detail["state"] == "pending" and detail["verification"]["verified"] is True

    moderator = token_client(admin.username)
    with django_capture_on_commit_callbacks(execute=True):
        approved = moderator.post(
            f"/api/v1/moderation/hosts/{host['id']}/approve/", {"reason": "welcome"}, format="json"
        )
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    assert mail.outbox[-1].subject == "[mirrormanager] mirror.example.org is approved"
    mirrors = APIClient().get("/api/v1/mirrors/").json()
    assert [m["name"] for m in mirrors["results"]] == ["mirror.example.org"]
    assert mirrors["results"][0]["urls"][0]["probe_state"] == "unknown"
    assert "verification" not in mirrors["results"][0]

    with django_capture_on_commit_callbacks(execute=True):
        disabled = moderator.post(f"/api/v1/moderation/hosts/{host['id']}/disable/", {"reason": "x"}, format="json")
    assert disabled.json()["state"] == "disabled" and APIClient().get("/api/v1/mirrors/").json()["count"] == 0
    assert moderator.post(f"/api/v1/moderation/hosts/{host['id']}/enable/").json()["state"] == "approved"


def test_approving_an_unverified_host_is_409_unless_overridden(team):
    api = as_user(team.admin)
    refused = api.post(f"/api/v1/moderation/hosts/{team.host.pk}/approve/", {}, format="json")
    assert refused.status_code == 409 and '"override": true' in refused.json()["detail"]
    done = api.post(f"/api/v1/moderation/hosts/{team.host.pk}/approve/", {"override": True}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "approved"
    entry = LogEntry.objects.get_for_object(team.host).first()
    assert entry.additional_data["override"] is True and entry.actor == team.admin
    again = api.post(f"/api/v1/moderation/hosts/{team.host.pk}/reject/", {"reason": "no"}, format="json")
    assert again.status_code == 409 and "it is approved" in again.json()["detail"]


def test_reject_and_disable_need_a_reason(team):
    api = as_user(team.admin)
    answer = api.post(f"/api/v1/moderation/hosts/{team.host.pk}/reject/", {}, format="json")
    assert answer.status_code == 400 and answer.json()["detail"].startswith("reason:") and "reason" in answer.json()
    assert (
        api.post(f"/api/v1/moderation/hosts/{team.host.pk}/reject/", {"reason": "spam"}).json()["state"] == "rejected"
    )
    assert api.get("/api/v1/moderation/hosts/?state=rejected").json()["count"] == 1
    assert "is not a state" in api.get("/api/v1/moderation/hosts/?state=nope").json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "field", "words"),
    [
        ("/api/v1/netblocks/", {"cidr": "192.0.2.1/24"}, "cidr", "the network is 192.0.2.0/24"),
        ("/api/v1/netblocks/", {"cidr": "10.0.0.0/8"}, "cidr", "wider than /16"),
        (
            "/api/v1/host-urls/",
            {"collection": "full", "url": "ftp://mirror.example.org/"},
            "url",
            "https, http or rsync",
        ),
        ("/api/v1/host-urls/", {"collection": "full", "url": "https://u:p@mirror.example.org/"}, "url", "password"),
        ("/api/v1/host-urls/", {"collection": "full", "url": "https://mirror.example.org/?a=b"}, "url", "query"),
        ("/api/v1/host-urls/", {"collection": "full", "url": "https://elsewhere.example.org/"}, "url", "own name"),
        ("/api/v1/host-urls/", {"collection": "full", "url": "https://mirror.example.org/x/"}, "url", "already has"),
        (
            "/api/v1/host-urls/",
            {"collection": "nope", "url": "https://mirror.example.org/x/"},
            "collection",
            "not exist",
        ),
        ("/api/v1/countries/", {"country": "XX"}, "country", "ISO 3166-1"),
    ],
)
def test_bad_input_is_400_with_a_message_on_its_field(team, path, body, field, words):
    answer = as_user(team.owner).post(path, {"host": team.host.pk, **body}, format="json")
    assert answer.status_code == 400, answer.content
    data = answer.json()
    assert words in " ".join(data[field]) and words in data["detail"] and data["detail"].startswith(f"{field}:")


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"country": "ZZ"}, "country", "ISO 3166-1"),
        ({"asn": 64500}, "asn", "documentation"),
        ({"asn": 0}, "asn", "reserved"),
        ({"name": "192.0.2.1"}, "name", "IP address"),
        ({"name": "mirror.example.org"}, "name", "registered already"),
        ({"bandwidth_mbps": 0}, "bandwidth_mbps", "greater than or equal to 1"),
    ],
)
def test_bad_hosts(team, body, field, words):
    data = {"site": team.site.pk, "name": "new.example.org", "country": "DE", "bandwidth_mbps": 100, **body}
    answer = as_user(team.owner).post("/api/v1/hosts/", data, format="json")
    assert answer.status_code == 400 and words in " ".join(answer.json()[field]), answer.content
    assert Host.objects.count() == 1


def test_a_host_cannot_be_created_in_someone_elses_site_or_renamed(team):
    answer = as_user(team.other).post(
        "/api/v1/hosts/", {"site": team.site.pk, "name": "x.example.org", "country": "DE"}, format="json"
    )
    assert answer.status_code == 400 and "does not exist" in answer.json()["site"][0]
    renamed = as_user(team.owner).patch(f"/api/v1/hosts/{team.host.pk}/", {"name": "new.example.org"}, format="json")
    assert renamed.status_code == 400 and "cannot be changed" in renamed.json()["detail"]
    switched = as_user(team.owner).patch(f"/api/v1/hosts/{team.host.pk}/", {"enabled": False, "country": "fr"})
    assert switched.status_code == 200 and (switched.json()["enabled"], switched.json()["continent"]) == (False, "EU")


def test_private_hosts_never_appear_in_the_public_list_and_filters_work(db):
    public = HostURLFactory(host__approved=True, host__country="FR", url="https://x/").host
    HostURLFactory(host__approved=True, host__private=True)
    HostURLFactory(host__state="pending")
    HostURLFactory(host=public, scheme="rsync", url="rsync://x/")
    client = APIClient()
    assert [m["name"] for m in client.get("/api/v1/mirrors/").json()["results"]] == [public.name]
    assert client.get("/api/v1/mirrors/?country=DE").json()["count"] == 0
    rsync = client.get("/api/v1/mirrors/?protocol=rsync&country=fr&collection=full").json()["results"]
    assert [u["scheme"] for u in rsync[0]["urls"]] == ["rsync"]
    bad = client.get("/api/v1/mirrors/?protocol=ftp")
    assert bad.status_code == 400 and "https, http or rsync" in bad.json()["detail"]
    assert client.get("/api/v1/mirrors/?collection=nope").status_code == 400


def test_token_login_failures_are_throttled(db, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="carol")
    client = APIClient()
    for _ in range(2):
        answer = client.post("/api/v1/auth/token/", {"username": "carol", "password": "wrong"}, format="json")
        assert answer.status_code == 400 and "Unable to log in" in answer.json()["detail"]
    locked = client.post("/api/v1/auth/token/", {"username": "carol", "password": "wrong"}, format="json")
    assert locked.status_code == 429 and "Too many failed log-in attempts" in locked.json()["detail"]
    still = client.post("/api/v1/auth/token/", {"username": "carol", "password": "pass-word-1234"}, format="json")
    assert still.status_code == 429  # even the right password, until the cool-off ends
    assert APIClient().post("/api/v1/auth/token/", {}, format="json").json()["detail"].startswith("username:")


def test_an_unconfirmed_account_gets_no_token(db):
    UserFactory(username="dave", is_active=False)
    answer = APIClient().post("/api/v1/auth/token/", {"username": "dave", "password": "pass-word-1234"})
    assert answer.status_code == 400


def test_session_auth_needs_csrf(team):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(team.owner)
    answer = client.post("/api/v1/sites/", {"name": "S", "contact_email": "s@example.org"}, format="json")
    assert answer.status_code == 403 and "CSRF" in answer.json()["detail"]


def test_the_openapi_schema_validates_and_names_every_endpoint(client):
    answer = client.get("/api/schema/?format=json")
    assert answer.status_code == 200
    schema = answer.json()
    validate(schema)
    for path in [
        "/api/v1/auth/token/", "/api/v1/sites/", "/api/v1/hosts/", "/api/v1/hosts/{id}/", "/api/v1/hosts/{id}/verify/",
        "/api/v1/host-urls/", "/api/v1/netblocks/", "/api/v1/countries/", "/api/v1/asns/", "/api/v1/mirrors/",
        "/api/v1/collections/", "/api/v1/moderation/hosts/{id}/approve/", "/api/v1/moderation/hosts/{id}/reject/",
        "/api/v1/moderation/hosts/{id}/disable/", "/api/v1/moderation/hosts/{id}/enable/",
    ]:  # fmt: skip
        assert path in schema["paths"], path
    host = schema["components"]["schemas"]["Host"]["properties"]
    assert {"id", "state", "verification"} <= set(host)
    assert client.get("/api/docs/").status_code == 200


# ---- who may do what: anonymous, another operator, the owner, a co-admin, a project admin ------------------

PEOPLE = ["anonymous", "other", "owner", "coadmin", "admin"]


def client_for(team, who: str) -> APIClient:
    return APIClient() if who == "anonymous" else as_user(getattr(team, who))


READS = [
    ("/api/v1/sites/{site}/", [401, 404, 200, 200, 200]),
    ("/api/v1/hosts/{host}/", [401, 404, 200, 200, 200]),
    ("/api/v1/host-urls/{url}/", [401, 404, 200, 200, 200]),
    ("/api/v1/netblocks/{netblock}/", [401, 404, 200, 200, 200]),
    ("/api/v1/countries/{country}/", [401, 404, 200, 200, 200]),
    ("/api/v1/asns/{asn}/", [401, 404, 200, 200, 200]),
    ("/api/v1/moderation/hosts/{host}/", [401, 403, 403, 403, 200]),
    ("/api/v1/mirrors/", [200, 200, 200, 200, 200]),
    ("/api/v1/mirrors/{host}/", [404, 404, 404, 404, 404]),  # pending: not public
    ("/api/v1/sites/", [401, 200, 200, 200, 200]),
    ("/api/v1/hosts/", [401, 200, 200, 200, 200]),
    ("/api/v1/host-urls/", [401, 200, 200, 200, 200]),
    ("/api/v1/netblocks/", [401, 200, 200, 200, 200]),
    ("/api/v1/countries/", [401, 200, 200, 200, 200]),
    ("/api/v1/asns/", [401, 200, 200, 200, 200]),
    ("/api/v1/moderation/hosts/", [401, 403, 403, 403, 200]),
    ("/api/v1/collections/", [200, 200, 200, 200, 200]),
    ("/api/v1/collections/full/", [200, 200, 200, 200, 200]),
]


@pytest.mark.parametrize(("path", "expected"), READS)
def test_who_may_read(team, path, expected):
    from tests.factories import HostCountryFactory, HostPeerASNFactory

    ids = {
        "site": team.site.pk,
        "host": team.host.pk,
        "url": team.host.urls.get().pk,
        "netblock": NetblockFactory(host=team.host).pk,
        "country": HostCountryFactory(host=team.host).pk,
        "asn": HostPeerASNFactory(host=team.host).pk,
    }
    got = [client_for(team, who).get(path.format(**ids)).status_code for who in PEOPLE]
    assert got == expected


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("patch", "/api/v1/sites/{site}/", {"contact_email": "new@example.org"}, [401, 404, 200, 200, 200]),
        ("patch", "/api/v1/hosts/{host}/", {"bandwidth_mbps": 5}, [401, 404, 200, 200, 200]),
        ("patch", "/api/v1/host-urls/{url}/", {"url": "https://mirror.example.org/new/"}, [401, 404, 200, 200, 200]),
        ("delete", "/api/v1/netblocks/{netblock}/", None, [401, 404, 204, 204, 204]),
        ("delete", "/api/v1/countries/{country}/", None, [401, 404, 204, 204, 204]),
        ("post", "/api/v1/netblocks/", {"host": "{host}", "cidr": "203.0.{n}.0/24"}, [401, 400, 201, 201, 201]),
        ("post", "/api/v1/countries/", {"host": "{host}", "country": "{country_code}"}, [401, 400, 201, 201, 201]),
        (
            "post",
            "/api/v1/host-urls/",
            {"host": "{host}", "collection": "full", "url": "{rsync}"},
            [401, 400, 201, 201, 201],
        ),
        ("post", "/api/v1/asns/", {"host": "{host}", "asn": "{asn}"}, [401, 403, 403, 403, 201]),
        ("delete", "/api/v1/asns/{asn_row}/", None, [401, 403, 403, 403, 204]),
        ("delete", "/api/v1/host-urls/{url}/", None, [401, 404, 204, 204, 204]),
        ("post", "/api/v1/hosts/{host}/verify/", None, [401, 404, 400, 400, 400]),
        ("post", "/api/v1/moderation/hosts/{host}/approve/", {"override": True}, [401, 403, 403, 403, 200]),
        ("post", "/api/v1/moderation/hosts/{host}/reject/", {"reason": "no"}, [401, 403, 403, 403, 200]),
        ("post", "/api/v1/moderation/hosts/{host}/disable/", {"reason": "stale"}, [401, 403, 403, 403, 200]),
        ("post", "/api/v1/moderation/hosts/{host}/enable/", {}, [401, 403, 403, 403, 200]),
        ("delete", "/api/v1/hosts/{host}/", None, [401, 404, 204, 204, 204]),
        ("delete", "/api/v1/sites/{site}/", None, [401, 404, 204, 403, 204]),
    ],
)
def test_who_may_write(team, loopback_names, method, path, body, expected):
    """Each person gets fresh rows, so that one person's delete does not decide the next one's answer."""
    from tests.factories import HostCountryFactory, HostFactory, HostPeerASNFactory, SiteFactory

    before = {"disable": "approved", "enable": "disabled"}.get(path.rstrip("/").rsplit("/", 1)[-1], "pending")
    got = []
    for n, who in enumerate(PEOPLE):
        if not Host.objects.filter(pk=team.host.pk).exists():  # deleted by the one before
            site = team.site if Site.objects.filter(pk=team.site.pk).exists() else SiteFactory(owner=team.owner)
            site.admins.add(team.coadmin)
            team.site, team.host = site, HostFactory(site=site, name=f"again{n}.example.org")
        Host.objects.filter(pk=team.host.pk).update(state=before)
        team.host.urls.all().delete()
        ids = {
            "site": team.site.pk,
            "host": team.host.pk,
            "url": HostURLFactory(host=team.host).pk,
            "netblock": NetblockFactory(host=team.host, cidr=f"198.51.{n}.0/24").pk,
            "country": HostCountryFactory(host=team.host, country=["FR", "IT", "ES", "PL", "CZ"][n]).pk,
            "asn_row": HostPeerASNFactory(host=team.host, asn=4000 + n).pk,
            "n": n,
            "country_code": ["NL", "BE", "AT", "CH", "DK"][n],
            "rsync": f"rsync://{team.host.name}/m{n}/",
            "asn": 5000 + n,
        }
        data = {key: _fill(value, ids) for key, value in (body or {}).items()}
        answer = getattr(client_for(team, who), method)(path.format(**ids), data or None, format="json")
        got.append(answer.status_code)
        if answer.status_code >= 400:
            assert "detail" in answer.json()
    assert got == expected


def _fill(value, ids):
    if not isinstance(value, str) or "{" not in value:
        return value
    text = value.format(**ids)
    return int(text) if text.isdigit() else text


def test_lists_are_scoped_and_paginated(team):
    HostFactory(site=team.site)
    other_host = HostFactory(site=team.other.owned_sites.get())
    mine = as_user(team.owner).get("/api/v1/hosts/?limit=1").json()
    assert mine["count"] == 2 and len(mine["results"]) == 1 and mine["next"]
    theirs = as_user(team.other).get("/api/v1/hosts/").json()
    assert [h["id"] for h in theirs["results"]] == [other_host.pk]
    assert as_user(team.admin).get("/api/v1/hosts/").json()["count"] == 3
    token = as_user(team.owner).get("/api/v1/hosts/").json()["results"][0]["verification"]["token"]
    assert token and token not in as_user(team.other).get("/api/v1/hosts/").content.decode()


def test_token_path_in_verification_is_the_one_fetched(team):
    assert verification_path(team.host) == f".well-known/mirrormanager-{team.host.pk}.txt"
