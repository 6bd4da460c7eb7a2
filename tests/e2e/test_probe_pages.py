"""The probes' pages in a real headless Chromium: every state, the lag chart and the propagation chart.

Real probes of fake mirrors on 127.0.0.1 give the latest states; two days of earlier history are written
directly so that the charts have something to draw.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By

from metadata.models import Collection
from mirrors.models import HostURL, ProbeResult, ProbeState, URLScheme
from mirrors.probing import services
from tests.factories import HostFactory, HostURLFactory, RevisionFactory
from tests.fake_http import serve
from tests.mirrors.probing.trees import make_history

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DELAYS = {"alpha": 1, "beta": 3, "gamma": 2, "delta": 5, "epsilon": 4, "zeta": 9}  # hours to get a revision


def past_history(url: HostURL, history, delay_hours: int) -> None:
    """Hourly results over the last two days, as a mirror that syncs delay_hours after each publish."""
    now = timezone.now()
    rows = []
    for hours_ago in range(48, 0, -1):
        at = now - timedelta(hours=hours_ago)
        # Each revision takes a little longer or shorter to reach a mirror, so the curves differ.
        have = [r for r in history.revisions if r.timestamp + timedelta(hours=delay_hours + r.number % 3) <= at]
        if not have:
            continue
        mine = have[-1]
        missing = [r for r in history.revisions if r.number > mine.number and r.timestamp <= at]
        lag = int((at - missing[0].timestamp).total_seconds()) if missing else 0
        state = ProbeState.BEHIND if missing else ProbeState.CURRENT
        rows.append(
            ProbeResult(host_url=url, state=state, revision=mine.number, revisions_behind=len(missing),
                        lag_seconds=lag, family=4, checked_at=at)
        )  # fmt: skip
    rows.append(ProbeResult(host_url=url, state=ProbeState.BROKEN, reason="no answer within 30 s", family=4,
                            checked_at=now - timedelta(hours=20)))  # fmt: skip
    ProbeResult.objects.bulk_create(rows)


@pytest.fixture
def network(settings, tmp_path, mirror_root):
    settings.PROBE_ALLOW_PRIVATE = True
    settings.PROBE_READ_TIMEOUT = 1
    settings.PROBE_VOID_MIN_URLS = 100
    full, _ = Collection.objects.get_or_create(slug="full", defaults={"title": "Full mirror"})
    history = make_history("full", 6, step=timedelta(hours=8), start=timezone.now() - timedelta(hours=50))
    history.write_origin(mirror_root / "pub")
    for revision in history.revisions:
        RevisionFactory(collection=full, number=revision.number, repomd_sha256=revision.sha256,
                        timestamp=revision.timestamp)  # fmt: skip
    trees = {
        "alpha": history.write_mirror(tmp_path / "alpha", 6),
        "beta": history.write_mirror(tmp_path / "beta", 5),
        "gamma": history.write_mirror(tmp_path / "gamma", 6),
        "delta": history.write_mirror(tmp_path / "delta", 6),
        "epsilon": tmp_path / "epsilon",
        "zeta": history.write_mirror(tmp_path / "zeta", 1),
    }
    newest = next(path for path in history.at(6).packages() if "demo_6-" in path)  # always sampled
    (trees["gamma"] / newest).write_bytes(b"not this")
    (trees["delta"] / newest).unlink()
    trees["epsilon"].mkdir()
    return full, history, trees


def test_probe_pages_show_every_state_and_the_charts(browser, live_server, screenshot, network):
    full, history, trees = network
    servers = {name: serve(root=root) for name, root in trees.items()}
    started = {name: context.__enter__() for name, context in servers.items()}
    try:
        urls = {}
        for name, server in started.items():
            host = HostFactory(approved=True, name=f"{name}.mirror.example.org", country="NL" if name < "d" else "DE")
            urls[name] = HostURLFactory(host=host, collection=full, url=server.url("/"), scheme=URLScheme.HTTP)
            past_history(urls[name], history, DELAYS[name])
        secret = HostURLFactory(host=HostFactory(approved=True, private=True, name="secret.mirror.example.org"),
                                collection=full, url="http://127.0.0.1:1/", scheme=URLScheme.HTTP)  # fmt: skip
        services.probes_run(seed=3)
    finally:
        for context in servers.values():
            context.__exit__(None, None, None)
    HostURL.objects.filter(pk=urls["epsilon"].pk).update(
        auto_disabled=True, auto_disabled_reason="3 failed probes in a row; the last found it broken"
    )

    browser.get(f"{live_server.url}/mirrors/probes/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Mirror probes"
    badges = {b.text for b in browser.find_elements(By.CSS_SELECTOR, ".probe-badge")}
    assert {"Current", "Behind", "Broken", "Corrupt", "Incomplete", "Switched off"} <= badges
    assert "secret.mirror.example.org" not in browser.page_source and str(secret.pk)
    behind_state = browser.find_element(By.CSS_SELECTOR, f"[data-testid=url-state-{urls['zeta'].pk}]").text
    assert "5 revisions" in behind_state and "behind" in behind_state
    screenshot("overview")
    screenshot("overview-narrow", width=420)

    browser.get(f"{live_server.url}/mirrors/urls/{urls['beta'].pk}/")
    chart = browser.find_element(By.CSS_SELECTOR, "svg.chart")
    assert chart.size["width"] > 300
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart .chart-dot") and browser.find_elements(
        By.CSS_SELECTOR, "svg.chart .chart-fail"
    )
    assert "1 revision" in browser.find_element(By.CSS_SELECTOR, ".probe-state").text
    screenshot("url-behind")

    browser.get(f"{live_server.url}/mirrors/urls/{urls['gamma'].pk}/")
    assert "has the wrong bytes" in browser.find_element(By.CSS_SELECTOR, "[data-testid=probe-reason]").text
    screenshot("url-corrupt")

    browser.get(f"{live_server.url}/collections/full/propagation/")
    steps = browser.find_elements(By.CSS_SELECTOR, "svg.chart path.chart-step")
    assert len(steps) == 5
    rows = browser.find_elements(By.CSS_SELECTOR, "table.data tbody tr")
    assert rows[0].text.startswith("6 ") and "of 6" in rows[0].text
    screenshot("propagation")

    browser.get(f"{live_server.url}/mirrors/urls/{secret.pk}/")
    assert "Not Found" in browser.page_source or "404" in browser.title or browser.find_elements(By.TAG_NAME, "h1")
    assert "secret.mirror.example.org" not in browser.page_source
