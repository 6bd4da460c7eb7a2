"""POST /api/v1/checkin/: current, behind, unknown hash, bad input, and only the host's own operators."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from mirrors.models import HostURL, ProbeResult, ProbeState
from tests.factories import HostFactory, HostURLFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return UserFactory(username="op")


@pytest.fixture
def private_url(operator, origin):
    host = HostFactory(site=SiteFactory(owner=operator), private=True, approved=True)
    return HostURLFactory(host=host, collection=origin.collection, auto_disabled=True, consecutive_failures=4)


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def checkin(client, url: HostURL, sha: str, **extra):
    body = {"host": url.host_id, "collection": url.collection.slug, "repomd_sha256": sha, **extra}
    return client.post("/api/v1/checkin/", body, format="json")


def test_a_current_checkin_counts_as_current_and_stands_in_for_the_probe(
    probe_settings, operator, private_url, origin, mailoutbox
):
    answer = checkin(client_for(operator), private_url, origin.at(6).sha256.upper())
    assert answer.status_code == 200, answer.json()
    assert answer.json() == {
        "host": private_url.host_id,
        "collection": "full",
        "state": "current",
        "revision": 6,
        "revisions_behind": 0,
        "lag_seconds": 0,
        "urls": [private_url.pk],
    }
    private_url.refresh_from_db()
    assert (private_url.probe_state, private_url.auto_disabled, private_url.consecutive_failures) == (
        ProbeState.CURRENT, False, 0
    )  # fmt: skip
    assert private_url.next_probe_at > timezone.now() + timedelta(minutes=50)
    result = ProbeResult.objects.get(host_url=private_url)
    assert (result.method, result.state, result.revision) == ("checkin", "current", 6)
    assert [message.subject for message in mailoutbox] == [f"[mirrormanager] {private_url.url} is back on"]


def test_an_older_revision_counts_as_behind(probe_settings, operator, private_url, origin):
    answer = checkin(client_for(operator), private_url, origin.at(4).sha256)
    assert answer.status_code == 200
    data = answer.json()
    assert (data["state"], data["revision"], data["revisions_behind"]) == ("behind", 4, 2)
    expected = (timezone.now() - origin.at(5).timestamp).total_seconds()
    assert abs(data["lag_seconds"] - expected) < 60
    private_url.refresh_from_db()
    assert private_url.probe_state == ProbeState.BEHIND and private_url.probe_lag_seconds == data["lag_seconds"]


def test_a_public_host_is_still_probed_after_a_checkin(probe_settings, operator, origin):
    url = HostURLFactory(host=HostFactory(site=SiteFactory(owner=operator), approved=True), auto_disabled=True)
    assert checkin(client_for(operator), url, origin.at(6).sha256).status_code == 200
    url.refresh_from_db()
    assert url.probe_state == ProbeState.CURRENT and url.auto_disabled and url.next_probe_at is None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"repomd_sha256": "ab" * 32}, "repomd_sha256", "is not the sha256 of any revision of 'full'"),
        ({"repomd_sha256": "not-a-hash"}, "repomd_sha256", "64 hexadecimal digits"),
        ({"collection": "nope"}, "collection", "there is no collection 'nope'"),
        ({"collection": "bad slug!"}, "collection", "valid"),
        ({"host": "x"}, "host", "valid integer"),
    ],
)
def test_bad_checkins_are_refused_with_a_message(probe_settings, operator, private_url, change, field, message):
    before = (private_url.probe_state, ProbeResult.objects.count())
    answer = checkin(client_for(operator), private_url, "0" * 64, **change)
    assert answer.status_code == 400
    assert message in answer.json()["detail"] and field in answer.json()["errors"]
    private_url.refresh_from_db()
    assert (private_url.probe_state, ProbeResult.objects.count()) == before


def test_missing_fields_are_named(operator):
    answer = client_for(operator).post("/api/v1/checkin/", {}, format="json")
    assert answer.status_code == 400 and set(answer.json()["errors"]) == {"host", "collection", "repomd_sha256"}


def test_a_collection_the_host_does_not_carry_is_refused(probe_settings, operator, private_url, origin):
    from tests.factories import CollectionFactory

    other = CollectionFactory(slug="other")
    answer = checkin(client_for(operator), private_url, origin.at(6).sha256, collection=other.slug)
    assert answer.status_code == 400 and "has no URL for the collection 'other'" in answer.json()["detail"]


def test_only_the_sites_own_operators_may_check_in(probe_settings, operator, private_url, origin):
    stranger = UserFactory(username="stranger")
    answer = checkin(client_for(stranger), private_url, origin.at(6).sha256)
    assert answer.status_code == 404 and "not found" in answer.json()["detail"]
    missing = checkin(client_for(stranger), private_url, origin.at(6).sha256, host=999999)
    assert missing.status_code == 404 and missing.json()["detail"] == answer.json()["detail"].replace(
        str(private_url.host_id), "999999"
    )
    co_admin = UserFactory(username="co-admin")
    private_url.host.site.admins.add(co_admin)
    assert checkin(client_for(co_admin), private_url, origin.at(6).sha256).status_code == 200
    private_url.refresh_from_db()
    assert private_url.probe_state == ProbeState.CURRENT


def test_anonymous_checkins_are_refused(private_url, origin):
    answer = checkin(APIClient(), private_url, origin.at(6).sha256)
    assert answer.status_code in (401, 403)
