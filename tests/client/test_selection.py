"""mm_mirror.candidates and `mm-mirror select`: the repomd.json check, latency, the choice, --write."""

from __future__ import annotations

import configparser
import tomllib

import pytest
from mm_mirror import candidates, mirrorlist
from mm_mirror.cli import main
from mm_mirror.errors import NO_MIRROR, OK, ORIGIN

pytestmark = pytest.mark.django_db


def select(network, tmp_path, *args: str) -> int:
    return main(
        ["select", "--origin", network.stand_in.url, "--cache-dir", str(tmp_path / "cache"), "--timeout", "2", *args]
    )


def test_each_probe_says_what_it_found(network):
    names = ["refused", "hanging", "error500", "behind", "recent", "good"]
    network.order(*names)
    listing = mirrorlist.fetch(network.stand_in.url, "full", timeout=5)
    probes = dict(zip(names, candidates.probe_all(listing.mirrors, listing, timeout=2, parallel=6), strict=True))
    assert probes["refused"].reason == "connection refused"
    assert probes["hanging"].reason == "time-out"
    assert probes["error500"].ok  # it serves repomd.json; only the rest fails
    assert probes["behind"].reason.startswith("stale: repomd.json is revision 1")
    assert probes["recent"].ok and not probes["recent"].current and probes["recent"].revision == 2
    assert probes["good"].ok and probes["good"].current and probes["good"].revision == 3
    assert candidates.best(list(probes.values())).current


def test_select_prints_the_best_current_mirror(network, tmp_path, capsys):
    network.order("refused", "hanging", "behind", "recent", "good")
    assert select(network, tmp_path) == OK
    captured = capsys.readouterr()
    assert captured.out == network.urls["good"] + "simple/\n"
    assert "connection refused" in captured.err and "time-out" in captured.err and "stale" in captured.err


def test_an_allowed_recent_mirror_serves_when_no_current_one_does(network, tmp_path, capsys):
    network.order("behind", "recent")
    assert select(network, tmp_path) == OK
    assert capsys.readouterr().out == network.urls["recent"] + "simple/\n"


def test_no_usable_mirror_and_no_origin(network, tmp_path, capsys):
    network.order("refused", "behind")
    assert select(network, tmp_path) == NO_MIRROR
    assert "none of the 2 best mirrors" in capsys.readouterr().err
    assert main(["select", "--origin", "http://127.0.0.1:9/", "--cache-dir", str(tmp_path / "empty")]) == ORIGIN
    assert main(["select", "--origin", "ftp://x.example/"]) == 2


def test_select_writes_pip_and_uv_configuration(network, tmp_path, capsys):
    network.order("good")
    pip_conf, uv_toml = tmp_path / "pip.conf", tmp_path / "uv.toml"
    assert select(network, tmp_path, "--write", "pip", "--config-path", str(pip_conf)) == OK
    assert select(network, tmp_path, "--write", "uv", "--config-path", str(uv_toml)) == OK
    parser = configparser.ConfigParser()
    parser.read(pip_conf)
    assert parser["global"]["index-url"] == network.urls["good"] + "simple/"
    assert tomllib.loads(uv_toml.read_text())["index"] == [
        {"name": "mm-mirror", "url": network.urls["good"] + "simple/", "default": True}
    ]


def test_the_config_file_gives_origin_and_collection(network, tmp_path, capsys):
    network.order("good")
    config = tmp_path / "config.toml"
    config.write_text(f'origin = "{network.stand_in.url}"\ncollection = "full"\ncache_dir = "{tmp_path / "c"}"\n')
    assert main(["select", "--config", str(config)]) == OK
    assert capsys.readouterr().out == network.urls["good"] + "simple/\n"
    config.write_text('origin = "x"\nunknown = 1\n')
    assert main(["select", "--config", str(config)]) == 2
    assert "unknown setting(s) unknown" in capsys.readouterr().err
    config.write_text("origin = = ")
    assert main(["select", "--config", str(config)]) == 2
    assert main(["select", "--config", str(tmp_path / "missing.toml")]) == 2
