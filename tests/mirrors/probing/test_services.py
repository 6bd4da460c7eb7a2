"""Probe runs: history, the URL's latest state, staggering, auto-disable and recovery, the void run, retention."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from mirrors.models import HostURL, ProbeResult, ProbeRun, ProbeState, URLScheme
from mirrors.probing import services
from mirrors.signals import probes_finished
from tests.factories import AdminFactory, CollectionFactory, HostFactory, HostURLFactory
from tests.fake_http import Status, serve

pytestmark = pytest.mark.django_db


def url_for(server, host=None, path="/", **kwargs) -> HostURL:
    return HostURLFactory(
        host=host or HostFactory(approved=True), url=server.url(path), scheme=URLScheme.HTTP, **kwargs
    )


def test_a_run_records_states_history_and_the_next_probe(probe_settings, origin, tmp_path):
    sent = []
    probes_finished.connect(lambda sender, run, **kw: sent.append(run), weak=False, dispatch_uid="test-run")
    try:
        current_dir = origin.write_mirror(tmp_path / "current", 6)
        behind_dir = origin.write_mirror(tmp_path / "behind", 1)
        with serve(root=current_dir) as current, serve(root=behind_dir) as behind:
            current_url, behind_url = url_for(current), url_for(behind)
            pending_url = url_for(current, host=HostFactory(), path="/")  # pending hosts are probed too
            off = url_for(current, host=HostFactory(approved=True, enabled=False))
            started = timezone.now()
            summary = services.probes_run(seed=1)
    finally:
        probes_finished.disconnect(dispatch_uid="test-run")
    assert summary is not None and sent == [summary.run]
    current_url.refresh_from_db()
    behind_url.refresh_from_db()
    pending_url.refresh_from_db()
    off.refresh_from_db()
    assert (current_url.probe_state, current_url.probe_revision, current_url.probe_lag_seconds) == (
        ProbeState.CURRENT, 6, 0
    )  # fmt: skip
    assert pending_url.probe_state == ProbeState.CURRENT
    assert (behind_url.probe_state, behind_url.probe_revisions_behind) == (ProbeState.BEHIND, 5)
    assert behind_url.probe_lag_seconds >= 4 * 3600  # whole seconds: exactly 4 h when the probe is quick
    assert off.probe_state == ProbeState.UNKNOWN and off.probed_at is None
    interval = timedelta(seconds=probe_settings.PROBE_INTERVAL)
    for url in (current_url, behind_url):
        assert started + interval * 0.5 - timedelta(seconds=5) <= url.next_probe_at <= timezone.now() + interval
        assert url.reachable_ipv4 and not url.reachable_ipv6
    run = ProbeRun.objects.get()
    assert (run.urls, run.failures, run.void) == (3, 0, False) and run.finished_at
    assert "3 URLs probed" in run.summary
    assert ProbeResult.objects.filter(run=run, family=4).count() == 3
    # Nothing is due now: the next run does nothing.
    assert services.probes_run() is None


def test_staggering_spreads_first_probes_over_half_an_interval(settings):
    import random

    settings.PROBE_INTERVAL = 3600
    now = timezone.now()
    rng = random.Random(5)
    firsts = [(services.next_probe_time(now=now, first=True, rng=rng) - now).total_seconds() for _ in range(200)]
    later = [(services.next_probe_time(now=now, first=False, rng=rng) - now).total_seconds() for _ in range(200)]
    assert 1800 <= min(firsts) and max(firsts) <= 3600 and max(firsts) - min(firsts) > 1200
    assert 3240 <= min(later) and max(later) <= 3960


def due_again():
    HostURL.objects.update(next_probe_at=timezone.now() - timedelta(seconds=1))


def test_auto_disable_after_consecutive_failures_and_recovery_with_emails(probe_settings, origin, tmp_path):
    probe_settings.PROBE_VOID_MIN_URLS = 100  # one URL: never a void run
    mirror = origin.write_mirror(tmp_path / "flaky", 6)
    with serve(root=mirror) as server:
        url = url_for(server)
        server.routes["/repodata/repomd.json"] = Status(503, b"down for maintenance")
        services.probes_run()
        url.refresh_from_db()
        assert (url.probe_state, url.consecutive_failures, url.auto_disabled) == (ProbeState.BROKEN, 1, False)
        assert url.probe_reason == "repodata/repomd.json answered HTTP 503"
        assert mail.outbox == []
        due_again()
        summary = services.probes_run()
        url.refresh_from_db()
        assert url.auto_disabled and summary.disabled == [url.pk]
        assert url.auto_disabled_reason.startswith("2 failed probes in a row; the last found it broken: repodata/")
        [off] = mail.outbox
        assert off.subject == f"[mirrormanager] {url.url} was switched off"
        assert url.host.site.contact_email in off.to and "answered HTTP 503" in off.body
        due_again()
        services.probes_run()  # still failing: no second email
        assert len(mail.outbox) == 1
        del server.routes["/repodata/repomd.json"]
        due_again()
        summary = services.probes_run()
    url.refresh_from_db()
    assert (url.probe_state, url.auto_disabled, url.consecutive_failures, url.auto_disabled_reason) == (
        ProbeState.CURRENT, False, 0, ""
    )  # fmt: skip
    assert summary.enabled == [url.pk]
    back = mail.outbox[1]
    assert back.subject == f"[mirrormanager] {url.url} is back on" and "current" in back.body


def test_a_run_where_most_probes_fail_is_void(probe_settings, origin, tmp_path):
    AdminFactory(email="root@example.org")
    mirror = origin.write_mirror(tmp_path / "good", 6)
    with serve(root=mirror) as good, serve({}, default=Status(500)) as bad:
        good_url = url_for(good)
        bad_urls = [url_for(bad, path=f"/m{n}/") for n in range(4)]
        for _ in range(3):
            summary = services.probes_run()
            assert summary.run.void
            due_again()
    assert all(not url.auto_disabled for url in HostURL.objects.all())
    for url in bad_urls:
        url.refresh_from_db()
        assert url.probe_state == ProbeState.UNKNOWN and url.consecutive_failures == 0
    good_url.refresh_from_db()
    assert good_url.probe_state == ProbeState.CURRENT  # good news counts even in a void run
    assert ProbeResult.objects.filter(host_url=bad_urls[0], state=ProbeState.BROKEN).count() == 3
    void_mails = [message for message in mail.outbox if "void" in message.subject]
    assert len(void_mails) == 3 and void_mails[0].to == ["root@example.org"]
    assert void_mails[0].subject == "[mirrormanager] probe run void: 4 of 5 probes failed"
    assert "void" in ProbeRun.objects.first().summary


def test_the_per_host_limit_holds(probe_settings, origin):
    probe_settings.PROBE_PER_HOST = 2
    probe_settings.PROBE_WORKERS = 8
    lock = threading.Lock()
    active = {"now": 0, "peak": 0}

    def slow(handler):
        with lock:
            active["now"] += 1
            active["peak"] = max(active["peak"], active["now"])
        time.sleep(0.15)
        with lock:
            active["now"] -= 1
        handler._send(404, b"no")

    host = HostFactory(approved=True)
    with serve({}, default=slow) as server:
        for n in range(6):
            url_for(server, host=host, path=f"/c{n}/", collection=CollectionFactory(slug=f"c{n}"))
        summary = services.probes_run()
    assert summary.run.urls == 6
    assert active["peak"] <= 2


def test_history_is_kept_for_probe_history_days(probe_settings, origin, tmp_path):
    probe_settings.PROBE_HISTORY_DAYS = 7
    mirror = origin.write_mirror(tmp_path / "m", 6)
    with serve(root=mirror) as server:
        url = url_for(server)
        old_run = ProbeRun.objects.create(started_at=timezone.now() - timedelta(days=8))
        old = ProbeResult.objects.create(
            host_url=url, run=old_run, state=ProbeState.CURRENT, checked_at=timezone.now() - timedelta(days=8)
        )
        kept = ProbeResult.objects.create(
            host_url=url, state=ProbeState.BEHIND, checked_at=timezone.now() - timedelta(days=6)
        )
        services.probes_run()
    assert not ProbeResult.objects.filter(pk=old.pk).exists() and not ProbeRun.objects.filter(pk=old_run.pk).exists()
    assert ProbeResult.objects.filter(pk=kept.pk).exists()
    assert ProbeResult.objects.filter(host_url=url).count() == 2


def test_probing_one_host_probes_all_its_urls_now(probe_settings, origin, tmp_path):
    mirror = origin.write_mirror(tmp_path / "m", 6)
    with serve(root=mirror) as server:
        url = url_for(server, next_probe_at=timezone.now() + timedelta(hours=1))
        other = url_for(server, path="/other/")
        summary = services.probes_run(host_name=url.host.name)
    assert summary.run.urls == 1
    url.refresh_from_db()
    other.refresh_from_db()
    assert url.probe_state == ProbeState.CURRENT and other.probe_state == ProbeState.UNKNOWN


def test_a_verdict_over_two_families_keeps_the_family_that_answers():
    from mirrors.probing.engine.types import ProbeOutcome

    verdict = services.Verdict.of(
        [
            ProbeOutcome(4, ProbeState.CURRENT, "", "abc", 6, 0, 0),
            ProbeOutcome(6, ProbeState.BROKEN, "connection refused by mirror.example.org (2001:db8::1)"),
        ]
    )
    assert (verdict.state, verdict.reachable_ipv4, verdict.reachable_ipv6) == (ProbeState.CURRENT, True, False)
    assert verdict.reason == "IPv6: connection refused by mirror.example.org (2001:db8::1)"
    both_broken = services.Verdict.of(
        [ProbeOutcome(4, ProbeState.BROKEN, "timed out"), ProbeOutcome(6, ProbeState.BROKEN, "refused")]
    )
    assert both_broken.failed and both_broken.reason == "IPv4: timed out; IPv6: refused"


def test_a_url_deleted_while_it_is_probed_is_skipped(probe_settings, origin, monkeypatch):
    from mirrors.probing.engine.types import ProbeOutcome

    gone = HostURLFactory(host=HostFactory(approved=True), scheme=URLScheme.HTTP, url="http://127.0.0.1:1/")

    class Refused:
        def probe(self, target, book):
            return [ProbeOutcome(4, ProbeState.BROKEN, "connection refused")]

    real_run_jobs = services.run_jobs

    def delete_first(jobs, *, on_result, **options):
        def record(item, result):
            HostURL.objects.filter(pk=gone.pk).delete()  # an operator removes it meanwhile
            on_result(item, result)

        return real_run_jobs(jobs, on_result=record, **options)

    monkeypatch.setattr(services, "run_jobs", delete_first)
    summary = services.probes_run(prober=Refused())
    assert summary.run.urls == 0 and not HostURL.objects.exists() and not ProbeResult.objects.exists()
