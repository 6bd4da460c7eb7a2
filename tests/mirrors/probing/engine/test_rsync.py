"""rsync URLs: the same classification through the rsync client, against an rsync daemon on 127.0.0.1."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from mirrors.models import ProbeState
from mirrors.probing.engine.types import ProbeTarget
from tests.fake_http import rsync_daemon
from tests.mirrors.probing.engine.test_probe import LIMITS, SLUG, prober


def test_rsync_current_behind_incomplete_and_corrupt(tmp_path, history, origin):
    mirror = history.write_mirror(tmp_path / "rsync-mirror", 6)
    with rsync_daemon(mirror, tmp_path) as url:
        target = ProbeTarget(url, SLUG)
        [current] = prober(origin).probe(target, history.book())
        assert current.state == ProbeState.CURRENT, current.reason
        assert all(check.ok for check in current.samples) and len(current.samples) == 3

        history.write_mirror(mirror, 5)
        [behind] = prober(origin).probe(target, history.book())
        assert (behind.state, behind.revisions_behind) == (ProbeState.BEHIND, 1)

        newest = next(path for path in history.at(5).packages() if "demo_5-" in path)
        (mirror / newest).unlink()
        [incomplete] = prober(origin).probe(target, history.book())
        assert (
            incomplete.state == ProbeState.INCOMPLETE
            and incomplete.reason == f"{PurePosixPath(newest).name} ({newest}) is missing"
        )

        (mirror / newest).write_bytes(b"x" * 10)
        [corrupt] = prober(origin).probe(target, history.book())
        assert corrupt.state == ProbeState.CORRUPT


def test_rsync_without_a_tree_or_a_daemon_is_broken(tmp_path, history, origin):
    empty = tmp_path / "empty"
    empty.mkdir()
    with rsync_daemon(empty, tmp_path) as url:
        [outcome] = prober(origin).probe(ProbeTarget(url, SLUG), history.book())
        assert outcome.state == ProbeState.BROKEN and outcome.reason == "repodata/repomd.json is not on the mirror"
    [gone] = prober(origin).probe(ProbeTarget(url, SLUG), history.book())
    assert gone.state == ProbeState.BROKEN and "rsync" in gone.reason


def test_rsync_to_loopback_is_refused_without_allow_private(history, origin):
    limits = type(LIMITS)(**{**LIMITS.__dict__, "allow_private": False})
    [outcome] = prober(origin, limits).probe(ProbeTarget("rsync://127.0.0.1:1/pypi/", SLUG), history.book())
    assert outcome.state == ProbeState.BROKEN and "private or special address" in outcome.reason


@pytest.fixture
def history():
    from tests.mirrors.probing.trees import make_history

    return make_history(SLUG, 6)


@pytest.fixture
def origin(tmp_path, history):
    pub = tmp_path / "pub"
    history.write_origin(pub)
    return pub


def test_rsync_errors_never_show_a_local_path():
    import subprocess
    import tempfile

    from mirrors.probing.engine.rsync import RsyncTransport

    transport = RsyncTransport("rsync://mirror.example.org/pypi/", family=0, limits=LIMITS, deadline=0)
    failed = subprocess.CompletedProcess(
        [], 23, "", f'rsync: [receiver] mkstemp "{tempfile.gettempdir()}/mm-probe-x1/.repomd.json.Ab" failed\n'
    )
    reason = transport._failure(failed).reason
    assert tempfile.gettempdir() not in reason and "mkstemp" in reason
