"""`mm-mirror checkin`: the hash of DEST's repomd.json, with the operator's token."""

from __future__ import annotations

import hashlib

import pytest
from mm_mirror.cli import main
from mm_mirror.errors import OK, ORIGIN

from tests.client.servers import origin_server, running


def test_checkin_posts_the_copys_hash_and_prints_the_state(tmp_path, capsys, monkeypatch):
    (tmp_path / "copy" / "repodata").mkdir(parents=True)
    repomd = b'{"version": 1, "revision": 3}'
    (tmp_path / "copy" / "repodata" / "repomd.json").write_bytes(repomd)
    with running(origin_server({})) as origin:
        args = ["checkin", str(tmp_path / "copy"), "--origin", origin.url, "--collection", "wheels", "--host", "12"]
        monkeypatch.setenv("MM_MIRROR_TOKEN", "secret-token")
        assert main(args) == OK
        assert capsys.readouterr().out == "current\n"
        assert origin.checkins[-1] == (
            "Token secret-token",
            {"host": 12, "collection": "wheels", "repomd_sha256": hashlib.sha256(repomd).hexdigest()},
        )
        monkeypatch.setenv("MM_MIRROR_TOKEN", "wrong")
        assert main(args) == ORIGIN
        assert "check-in refused (HTTP 401): Invalid token." in capsys.readouterr().err
    monkeypatch.delenv("MM_MIRROR_TOKEN")
    assert main(args) == 2  # no token
    assert (
        main(["checkin", str(tmp_path / "nothing"), "--origin", "http://127.0.0.1:9/", "--host", "1", "--token", "t"])
        == 2
    )


@pytest.mark.parametrize("missing", ["--host"])
def test_checkin_needs_a_host(tmp_path, missing, capsys):
    assert main(["checkin", str(tmp_path), "--origin", "http://127.0.0.1:9/", "--token", "t"]) == 2
    assert "no host" in capsys.readouterr().err
