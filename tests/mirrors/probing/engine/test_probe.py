"""The probe engine against fake mirrors on 127.0.0.1: every state, each with its reason."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mirrors.models import ProbeState
from mirrors.probing.engine.probe import Prober
from mirrors.probing.engine.sampling import SamplePlanner
from mirrors.probing.engine.types import ProbeLimits, ProbeTarget, RevisionBook, RevisionInfo
from tests.fake_http import Hang, Redirect, Reset, pretend_public_loopback, self_signed_context, serve
from tests.mirrors.probing.trees import make_history

LIMITS = ProbeLimits(connect_timeout=2, read_timeout=1, max_bytes=64 * 1024, sample_files=3, allow_private=True)
SLUG = "full"


@pytest.fixture
def history():
    return make_history(SLUG, 6)


@pytest.fixture
def origin(tmp_path, history) -> Path:
    pub = tmp_path / "pub"
    history.write_origin(pub)
    return pub


def prober(origin: Path | None, limits: ProbeLimits = LIMITS) -> Prober:
    return Prober(
        limits=limits, planner=SamplePlanner(origin, max_bytes=limits.sample_max_bytes, seed=1), rng=random.Random(1)
    )


def probe_dir(tmp_path, history, origin, number, *, limits=LIMITS, damage=None):
    mirror = history.write_mirror(tmp_path / f"mirror-{number}", number)
    if damage:
        damage(mirror)
    with serve(root=mirror) as server:
        [outcome] = prober(origin, limits).probe(ProbeTarget(server.url("/"), SLUG), history.book())
    return outcome


def test_revision_book_lag_is_the_time_since_the_first_missing_revision():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    book = RevisionBook("full", tuple(RevisionInfo(n, f"sha{n}", t0 + timedelta(hours=n)) for n in (1, 2, 5)))
    now = t0 + timedelta(hours=10)
    assert book.lag(book.find("sha5"), now).revisions == 0
    assert (book.lag(book.find("sha2"), now).revisions, book.lag(book.find("sha2"), now).seconds) == (1, 5 * 3600)
    assert (book.lag(book.find("sha1"), now).revisions, book.lag(book.find("sha1"), now).seconds) == (2, 8 * 3600)
    assert book.current.number == 5 and book.find("nope") is None


def test_current(tmp_path, history, origin):
    outcome = probe_dir(tmp_path, history, origin, 6)
    assert (outcome.state, outcome.revision, outcome.revisions_behind, outcome.lag_seconds) == (
        ProbeState.CURRENT, 6, 0, 0
    )  # fmt: skip
    assert outcome.family == 4 and outcome.repomd_sha256 == history.at(6).sha256
    assert len(outcome.samples) == 3 and all(check.ok for check in outcome.samples)


@pytest.mark.parametrize("behind", [1, 5])
def test_behind(tmp_path, history, origin, behind):
    outcome = probe_dir(tmp_path, history, origin, 6 - behind)
    assert outcome.state == ProbeState.BEHIND
    assert (outcome.revision, outcome.revisions_behind) == (6 - behind, behind)
    first_missing = history.at(7 - behind).timestamp
    expected = (datetime.now(UTC) - first_missing).total_seconds()
    assert abs(outcome.lag_seconds - expected) < 60
    assert f"{behind} revision" in outcome.reason


def test_corrupt(tmp_path, history, origin):
    newest = history.at(6).packages()[-1]

    def corrupt(mirror):
        path = mirror / history.at(6).packages()[0]
        data = bytearray(path.read_bytes())
        data[10] ^= 0xFF
        path.write_bytes(bytes(data))
        (mirror / newest).write_bytes(b"short")

    outcome = probe_dir(
        tmp_path, history, origin, 6, limits=ProbeLimits(**{**LIMITS.__dict__, "sample_files": 12}), damage=corrupt
    )
    assert outcome.state == ProbeState.CORRUPT
    assert "has the wrong bytes" in outcome.reason
    assert outcome.revision == 6


def test_missing_newest_file_is_incomplete(tmp_path, history, origin):
    # The newest file of the mirror's revision is always sampled: a mirror half-way through an rsync lacks it.
    newest = [path for path in history.at(4).packages() if "demo_4-" in path][0]
    outcome = probe_dir(
        tmp_path, history, origin, 4, limits=ProbeLimits(**{**LIMITS.__dict__, "sample_files": 1}),
        damage=lambda mirror: (mirror / newest).unlink(),
    )  # fmt: skip
    assert outcome.state == ProbeState.INCOMPLETE
    assert outcome.reason == f"{Path(newest).name} ({newest}) is missing"
    assert outcome.revisions_behind == 2


def test_primary_comes_from_the_mirror_when_the_origin_no_longer_has_it(tmp_path, history):
    outcome = probe_dir(tmp_path, history, None, 5)
    assert outcome.state == ProbeState.BEHIND and all(check.ok for check in outcome.samples)
    primary = next(path for path in history.at(5).files if path.endswith("primary.json.gz"))
    outcome = probe_dir(tmp_path, history, None, 5, damage=lambda mirror: (mirror / primary).unlink())
    assert outcome.state == ProbeState.INCOMPLETE and outcome.reason.startswith("primary data: ")
    outcome = probe_dir(tmp_path, history, None, 5, damage=lambda mirror: (mirror / primary).write_bytes(b"x"))
    assert outcome.state == ProbeState.CORRUPT and "does not have the sha256" in outcome.reason


def test_unknown_revision_and_unparsable_and_bad_status_are_broken(tmp_path, history, origin):
    def forge(mirror):
        (mirror / "repodata/repomd.json").write_bytes(b'{"version": 1, "revision": 99}')

    outcome = probe_dir(tmp_path, history, origin, 6, damage=forge)
    assert outcome.state == ProbeState.BROKEN and "is no revision the origin published" in outcome.reason
    outcome = probe_dir(
        tmp_path, history, origin, 6, damage=lambda m: (m / "repodata/repomd.json").write_bytes(b"<html>")
    )
    assert outcome.state == ProbeState.BROKEN and outcome.reason == "repodata/repomd.json is not valid JSON"
    outcome = probe_dir(tmp_path, history, origin, 6, damage=lambda m: (m / "repodata/repomd.json").unlink())
    assert outcome.state == ProbeState.BROKEN and outcome.reason == "repodata/repomd.json answered HTTP 404"


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (Hang(), "no answer from 127.0.0.1 within 1 s"),
        (Reset(), "connection reset"),
        (b"{" + b" " * 70000 + b"}", "more than the 65536"),
    ],
    ids=["hang", "reset", "oversized"],
)
def test_network_failures_are_broken(history, origin, route, reason):
    with serve({"/repodata/repomd.json": route}) as server:
        [outcome] = prober(origin).probe(ProbeTarget(server.url("/"), SLUG), history.book())
    assert outcome.state == ProbeState.BROKEN
    assert reason in outcome.reason


def test_redirect_to_a_private_address_is_broken(monkeypatch, history, origin):
    pretend_public_loopback(monkeypatch)
    limits = ProbeLimits(**{**LIMITS.__dict__, "allow_private": False})
    with serve({"/repodata/repomd.json": Redirect("http://169.254.169.254/latest/meta-data/")}) as server:
        [outcome] = prober(origin, limits).probe(
            ProbeTarget(f"http://mirror.example.org:{server.port}/", SLUG), history.book()
        )
        assert server.requests == ["/repodata/repomd.json"]
    assert outcome.state == ProbeState.BROKEN
    assert "169.254.169.254, a private or special address" in outcome.reason


def test_loopback_itself_is_refused_without_allow_private(history, origin):
    limits = ProbeLimits(**{**LIMITS.__dict__, "allow_private": False})
    with serve({}) as server:
        [outcome] = prober(origin, limits).probe(ProbeTarget(server.url("/"), SLUG), history.book())
        assert server.requests == []
    assert outcome.state == ProbeState.BROKEN and "private or special address" in outcome.reason


def test_self_signed_certificate_is_broken(tmp_path, history, origin):
    context, _cert = self_signed_context(tmp_path)
    mirror = history.write_mirror(tmp_path / "tls-mirror", 6)
    with serve(root=mirror, tls=context) as server:
        [outcome] = prober(origin).probe(ProbeTarget(server.url("/"), SLUG), history.book())
    assert outcome.state == ProbeState.BROKEN and "TLS error" in outcome.reason


def test_a_name_with_both_families_is_probed_over_each(monkeypatch, tmp_path, history, origin):
    from core.net import guard

    monkeypatch.setattr(
        guard, "resolve", lambda host, port, family=0: {0: ["127.0.0.1", "::1"], 4: ["127.0.0.1"], 6: ["::1"]}[family]
    )
    mirror = history.write_mirror(tmp_path / "dual", 6)
    with serve(root=mirror) as server:
        outcomes = prober(origin).probe(ProbeTarget(f"http://dual.example.org:{server.port}/", SLUG), history.book())
    assert [outcome.family for outcome in outcomes] == [4, 6]
    assert outcomes[0].state == ProbeState.CURRENT
    # Nothing listens on [::1] at that port (or IPv6 is off): the IPv6 probe fails on its own.
    assert outcomes[1].state == ProbeState.BROKEN
