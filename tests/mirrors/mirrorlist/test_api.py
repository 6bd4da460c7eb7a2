"""The endpoint through Django's test client (the DRF view), with test GeoIP databases."""

import json

import pytest
from rest_framework.authtoken.models import Token

from mirrors.mirrorlist import runtime
from mirrors.mirrorlist.services import mirrorlist_build
from tests.factories import AdminFactory, HostFactory, HostURLFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/mirrorlist/full/"


def _get(client, params=None, ip="192.0.2.7", **headers):
    return client.get(URL, params or {}, REMOTE_ADDR=ip, **headers)


def _hosts(response):
    return [(entry["host"], entry["tier"]) for entry in response.json()["mirrors"]]


def test_each_tier_in_order_origin_last(client, network, geo_dbs, settings):
    settings.MIRRORLIST_MIN_MIRRORS = 10
    response = _get(client)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["client"] == {"ip": "192.0.2.7", "country": "DE", "continent": "EU", "asn": 64500}
    assert body["revision"] == 2 and len(body["repomd_sha256"]) == 64
    assert _hosts(response) == [
        ("net.mirror.example.org", "netblock"), ("asn.mirror.example.org", "asn"), ("de.mirror.example.org", "country"),
        ("nl.mirror.example.org", "continent"), ("jp.mirror.example.org", "world"), ("origin", "origin"),
    ]  # fmt: skip
    assert body["mirrors"][-1]["url"] == "https://origin.example/pub/full/"
    assert "private" in response["Cache-Control"] and "max-age=" in response["Cache-Control"]


def test_the_minimum_stops_the_world_tier(client, network, geo_dbs, settings):
    settings.MIRRORLIST_MIN_MIRRORS = 2
    assert ("jp.mirror.example.org", "world") not in _hosts(_get(client))


def test_continent_redirect_and_no_private_outside(client, network, geo_dbs, settings):
    settings.MIRRORLIST_MIN_MIRRORS = 1
    # 203.0.113.9 is in IL (Asia in GeoIP); the seeded redirect sends it to Europe's mirrors.
    hosts = _hosts(_get(client, ip="203.0.113.9"))
    assert [tier for _host, tier in hosts] == ["continent", "continent", "origin"]
    assert {host for host, _tier in hosts} == {"de.mirror.example.org", "nl.mirror.example.org", "origin"}


def test_without_geoip_netblocks_then_world(client, network):
    response = _get(client)
    assert _hosts(response)[0] == ("net.mirror.example.org", "netblock")
    assert {tier for _host, tier in _hosts(response)[1:-1]} == {"world"}
    assert response.json()["client"]["country"] is None


def test_ipv6_client_and_protocol(client, network, geo_dbs):
    HostURLFactory(host=HostFactory(approved=True, name="v4only.example.org"), current=True, reachable_ipv6=False)
    mirrorlist_build()
    hosts = [host for host, _tier in _hosts(_get(client, ip="2001:db8::7"))]
    assert "v4only.example.org" not in hosts and "de.mirror.example.org" in hosts
    assert [e["url"] for e in _get(client, {"protocol": "rsync"}).json()["mirrors"]] == []


def test_txt_and_metalink(client, network, geo_dbs):
    txt = _get(client, {"format": "txt", "seed": "3"})
    assert txt["Content-Type"].startswith("text/plain")
    assert txt.content.decode().splitlines() == [e["url"] for e in _get(client, {"seed": "3"}).json()["mirrors"]]
    metalink = _get(client, {"format": "metalink"})
    assert metalink["Content-Type"] == "application/metalink4+xml"
    assert b"urn:ietf:params:xml:ns:metalink" in metalink.content


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"format": "xml"}, 400, "format must be one of"),
        ({"protocol": "ftp"}, 400, "protocol must be one of"),
        ({"country": "ZZ"}, 400, "country must be"),
        ({"country": "DEU"}, 400, "country must be"),
        ({"explain": "maybe"}, 400, "explain must be"),
        ({"seed": "-1"}, 400, "seed must be"),
        ({"seed": "9" * 30}, 400, "seed must be"),
        ({"ip": "10.0.0.1"}, 403, "admins only"),
        ({"explain": "1"}, 403, "admins only"),
    ],
)
def test_bad_parameters(client, network, params, status, words):
    response = _get(client, params)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json" and words in response.json()["detail"]


def test_unknown_collection_and_no_table(client, network, settings, tmp_path):
    response = client.get("/api/v1/mirrorlist/nope/")
    assert response.status_code == 404 and response.json() == {"detail": "no collection 'nope'"}
    settings.VAR_DIR = tmp_path / "elsewhere"
    from mirrors.models import MirrorlistSnapshot

    MirrorlistSnapshot.objects.all().delete()
    runtime.reset()
    response = client.get(URL)
    assert response.status_code == 503 and "not built yet" in response.json()["detail"]


def test_admin_ip_and_explain_by_token_and_session(client, network, geo_dbs):
    admin = AdminFactory()
    token = Token.objects.create(user=admin)
    response = _get(client, {"ip": "10.1.1.1", "explain": "1"}, ip="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    body = response.json()
    assert body["client"]["ip"] == "10.1.1.1"
    assert all(entry["reason"] for entry in body["mirrors"])
    excluded = {entry["host"]: entry["reason"] for entry in body["excluded"]}
    assert excluded["net.mirror.example.org"].startswith("private")
    client.force_login(admin)
    assert _get(client, {"ip": "192.0.2.99"}).json()["mirrors"][0]["host"] == "net.mirror.example.org"
    assert _get(client, {"ip": "not-an-ip"}).json()["detail"].startswith("ip must be")
    # A signed-in operator is not an admin.
    client.force_login(UserFactory())
    assert _get(client, {"ip": "192.0.2.99"}).status_code == 403


def test_forwarded_for_only_from_trusted_proxies(client, network, geo_dbs, settings):
    forged = {"HTTP_X_FORWARDED_FOR": "192.0.2.50"}
    # From an untrusted peer the header is ignored: no private netblock mirror.
    hosts = _hosts(_get(client, ip="198.18.0.1", **forged))
    assert "net.mirror.example.org" not in [host for host, _tier in hosts]
    settings.TRUSTED_PROXIES = ["127.0.0.0/8", "10.0.0.0/8"]
    chain = {"HTTP_X_FORWARDED_FOR": "192.0.2.50, 198.18.0.9, 10.0.0.2"}
    body = _get(client, ip="127.0.0.1", **chain).json()
    assert body["client"]["ip"] == "198.18.0.9"  # the right-most address that is not a trusted proxy
    body = _get(client, ip="127.0.0.1", **forged).json()
    assert body["client"]["ip"] == "192.0.2.50" and body["mirrors"][0]["host"] == "net.mirror.example.org"


def test_database_down_keeps_serving(client, network, monkeypatch):
    from django.db.utils import OperationalError

    def down(self):
        raise OperationalError("connection refused")

    monkeypatch.setattr("mirrors.mirrorlist.sources.DatabaseSource.latest_version", down)
    holder = runtime.holder()
    holder.table()
    assert holder.poll_source_once() is False and "unavailable" in holder.last_error
    assert _get(client).status_code == 200


def test_live_swap_without_restart(client, network, settings):
    settings.MIRRORLIST_REFRESH_SECONDS = 0.05
    settings.MIRRORLIST_MIN_MIRRORS = 10
    runtime.reset()
    first = _get(client)
    version = int(first["X-Mirrorlist-Version"])
    HostURLFactory(host=HostFactory(approved=True, name="new.example.org"), current=True)
    mirrorlist_build()
    holder = runtime.holder()
    holder._checked = -1e9  # as if a second had passed
    second = _get(client)
    assert int(second["X-Mirrorlist-Version"]) == version + 1 == second.json()["table_version"]
    assert "new.example.org" in [e["host"] for e in second.json()["mirrors"]]


def test_from_another_machine_through_the_database(client, network, settings, tmp_path):
    """A process whose local cache is elsewhere (another machine) gets the table from the database."""
    settings.VAR_DIR = tmp_path / "machine-b"
    runtime.reset()
    assert _get(client).status_code == 200
    assert (tmp_path / "machine-b" / "mirrorlist" / "snapshot.bin").exists()
    before = runtime.holder().table().version
    mirrorlist_build()  # writes machine A's... here the same VAR_DIR; remove the file to force the poll
    (tmp_path / "machine-b" / "mirrorlist" / "snapshot.bin").unlink()
    assert runtime.holder().poll_source_once() is True and runtime.holder().table().version == before + 1


def test_openapi_schema_has_the_endpoint(client):
    schema = client.get("/api/schema/", {"format": "json"})
    paths = json.loads(schema.content)["paths"]
    operation = paths["/api/v1/mirrorlist/{collection}/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"format", "country", "protocol", "ip", "explain"}


def test_healthz_reports_geo_off_and_on(client, network, settings):
    checks = client.get("/healthz").json()["checks"]
    assert checks["mirrorlist"]["ok"] is True and checks["mirrorlist"]["geo"] == "off"
    assert checks["mirrorlist"]["table_version"] >= 1


def test_healthz_geo_on(client, network, geo_dbs):
    line = client.get("/healthz").json()["checks"]["mirrorlist"]
    assert (line["geo"], line["geo_database"], line["asn"]) == ("on", "GeoLite2-Country", "on")


def test_healthz_says_which_lookup_answers(client, network, settings, monkeypatch):
    from mirrors.mirrorlist.engine import fast

    line = client.get("/healthz").json()["checks"]["mirrorlist"]
    assert line["lookup"] == ("compiled" if fast.compiled else "python")
    monkeypatch.setattr(fast, "compiled", None)
    line = client.get("/healthz").json()["checks"]["mirrorlist"]
    assert (line["lookup"], line["lookup_note"].split(":")[0]) == (
        "python",
        "the compiled lookup is not built, or was built from another source",
    )
    settings.MIRRORLIST_COMPILED = False
    line = client.get("/healthz").json()["checks"]["mirrorlist"]
    assert (line["lookup"], line["lookup_note"]) == ("python", "MIRRORLIST_COMPILED is off")
