"""The probes' pages: states and charts, and who sees what (private and unapproved hosts stay hidden)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from mirrors.models import HostState, ProbeResult, ProbeState
from tests.factories import AdminFactory, HostFactory, HostURLFactory, RevisionFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(db):
    from metadata.models import Collection

    full = Collection.objects.get(slug="full")
    now = timezone.now()
    for number in range(1, 4):
        RevisionFactory(collection=full, number=number, timestamp=now - timedelta(hours=4 - number))
    public = HostURLFactory(
        host=HostFactory(approved=True, name="public.example.org"),
        probe_state=ProbeState.BEHIND,
        probe_revision=2,
        probe_revisions_behind=1,
        probe_lag_seconds=2 * 3600 + 300,
        probed_at=now,
    )
    owner = UserFactory(username="owner")
    private = HostURLFactory(
        host=HostFactory(approved=True, private=True, name="private.example.org", site=SiteFactory(owner=owner)),
        current=True,
    )
    pending = HostURLFactory(host=HostFactory(state=HostState.PENDING, name="pending.example.org"), current=True)
    for hours, revision, lag, state in [(3, 1, 0, "current"), (2, 1, 3600, "behind"), (1, None, None, "broken")]:
        ProbeResult.objects.create(
            host_url=public,
            state=state,
            revision=revision,
            lag_seconds=lag,
            family=4,
            reason="<script>alert(1)</script>" if state == "broken" else "",
            checked_at=now - timedelta(hours=hours),
        )
    ProbeResult.objects.create(host_url=private, state="current", revision=3, lag_seconds=0, checked_at=now)
    return {"public": public, "private": private, "pending": pending, "owner": owner}


def test_the_include_shows_state_lag_and_time():
    url = HostURLFactory.build(
        pk=7, probe_state=ProbeState.BEHIND, probe_revisions_behind=2, probe_lag_seconds=3 * 3600 + 1200,
        probed_at=timezone.now() - timedelta(minutes=5), probe_reason="revision 4, 2 revisions behind",
    )  # fmt: skip
    html = render_to_string("mirrors/_url_state.html", {"url": url}).replace("\xa0", " ")
    assert "Behind" in html and "2 revisions, 3 h 20 min behind" in html and "5 minutes ago" in html
    assert 'data-testid="url-state-7"' in html
    fresh = HostURLFactory.build(pk=8)
    assert "not checked yet" in render_to_string("mirrors/_url_state.html", {"url": fresh})
    off = HostURLFactory.build(pk=9, probe_state=ProbeState.BROKEN, auto_disabled=True, auto_disabled_reason="3 failed")
    assert "Switched off" in render_to_string("mirrors/_url_state.html", {"url": off})


def test_overview_shows_public_urls_only_to_the_public(client, network):
    page = client.get("/mirrors/probes/").content.decode()
    assert "public.example.org" in page and "private.example.org" not in page and "pending.example.org" not in page
    client.force_login(network["owner"])
    page = client.get("/mirrors/probes/").content.decode()
    assert "private.example.org" in page and "pending.example.org" not in page
    client.force_login(AdminFactory())
    page = client.get("/mirrors/probes/").content.decode()
    assert "pending.example.org" in page


def test_url_page_has_the_lag_chart_and_escapes_reasons(client, network):
    answer = client.get(f"/mirrors/urls/{network['public'].pk}/")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "<svg" in page and 'class="chart-line"' in page and 'class="chart-fail"' in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "2 h 5 min" in page


def test_private_and_pending_url_pages_are_404_to_others(client, network):
    assert client.get(f"/mirrors/urls/{network['private'].pk}/").status_code == 404
    assert client.get(f"/mirrors/urls/{network['pending'].pk}/").status_code == 404
    client.force_login(UserFactory(username="someone"))
    assert client.get(f"/mirrors/urls/{network['private'].pk}/").status_code == 404
    client.force_login(network["owner"])
    assert client.get(f"/mirrors/urls/{network['private'].pk}/").status_code == 200
    assert client.get("/mirrors/urls/999999/").status_code == 404


def test_propagation_counts_public_mirrors_only(client, network):
    page = client.get("/collections/full/propagation/").content.decode()
    assert "<svg" in page and "chart-step" in page
    # One public mirror, which had revision 1 but never 2 or 3.
    assert "100 % of 1" in page and "0 % of 1" in page
    client.force_login(AdminFactory())
    page = client.get("/collections/full/propagation/").content.decode()
    assert "of 3" in page  # staff count the private and pending URLs too
    assert client.get("/collections/nope/propagation/").status_code == 404


def test_charts_without_data_say_so(client, db):
    page = client.get("/collections/full/propagation/").content.decode()
    assert "No revisions or no probed mirrors yet" in page


def test_metrics_are_off_unless_enabled_and_then_restricted(client, network, settings):
    assert client.get("/metrics").status_code == 404
    settings.METRICS_ENABLED = True
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/plain")
    text = answer.content.decode()
    assert 'mirrormanager_mirror_urls{collection="full",state="behind"} 1.0' in text
    labels = f'collection="full",host="public.example.org",scheme="https",url_id="{network["public"].pk}"'
    assert f"mirrormanager_mirror_url_lag_seconds{{{labels}}} 7500.0" in text
    assert 'mirrormanager_probe_results{state="broken"} 1.0' in text
    settings.METRICS_ALLOWED_CIDRS = ["10.0.0.0/8"]
    assert client.get("/metrics").status_code == 403
    settings.METRICS_ALLOWED_CIDRS = ["10.0.0.0/8", "127.0.0.0/8"]
    assert client.get("/metrics").status_code == 200
