"""Real pip and uv install through `mm-mirror run` and through `mm-mirror select --write`.

Six mirrors on 127.0.0.1, in this order on the stand-in origin's list: one refusing connections,
one hanging, one answering 500 (to all but repomd.json), one a revision behind, one serving corrupt
wheels, and the good one. The installers get every package from the good one; the log shows one
failover line for each bad mirror; with the origin stopped, the cached list still serves.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.client import conftest as client_fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
network = client_fixtures.network  # the fixture, shared with tests/client
origin = client_fixtures.origin  # the fixture, shared with tests/client

BIN = Path(sys.executable).parent
BAD = ("refused", "hanging", "error500", "behind", "corrupt")
WHEELS = ("greeter-0.3.0-py3-none-any.whl", "hello_world-1.1.0-py3-none-any.whl")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No pip or uv configuration of this machine (its user config adds extra indexes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "XDG_"))}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
        HOME=str(tmp_path / "home"),
        NO_PROXY="127.0.0.1",
    )
    env.update(extra)
    return env


def run(env: dict[str, str], *argv: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), env=env, capture_output=True, text=True, timeout=timeout, check=False)


def mm_run(network, tmp_path, *command: str) -> subprocess.CompletedProcess:
    return run(
        clean_env(tmp_path), str(BIN / "mm-mirror"), "run", "--origin", network.stand_in.url, "--timeout", "2",
        "--cache-dir", str(tmp_path / "mm-cache"), "--", *command,
    )  # fmt: skip


@pytest.fixture
def bad_network(network):
    client_fixtures.corrupt(
        Path(network.servers["corrupt"].directory) / "full", WHEELS[0]
    )  # both wheels are corrupt there
    network.order(*BAD, "good")
    return network


def pip_install(target: Path, *requirements: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-cache-dir",
        "--progress-bar",
        "off",
        "--target",
        str(target),
        *requirements,
    ]


def assert_failovers(log: str, network) -> None:
    lines = [line for line in log.splitlines() if line.startswith("mm-mirror: failover: ")]
    for name, reason in zip(
        BAD, ("connection refused", "time-out", "HTTP 500", "stale: ", "sha256 does not match"), strict=True
    ):
        mine = [line for line in lines if line.startswith(f"mm-mirror: failover: {network.urls[name]} ")]
        if name == "hanging" and not mine:
            # The install ended before the hanging mirror's check timed out: no request waited for it.
            assert f"mm-mirror: skipped: {network.urls[name]} (no answer to its repomd.json check" in log
            continue
        assert len(mine) == 1 and reason in mine[0], (name, lines)
    assert not any(line.startswith(f"mm-mirror: failover: {network.urls['good']} ") for line in lines)


def assert_from_the_good_one(network) -> None:
    for wheel in WHEELS:
        assert any(path.endswith(wheel) for path in network.servers["good"].requests), wheel


def test_pip_through_mm_mirror_run_gets_everything_from_the_good_mirror(bad_network, tmp_path):
    result = mm_run(bad_network, tmp_path, *pip_install(tmp_path / "target", "greeter==0.3.0"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert {p.name for p in (tmp_path / "target").glob("*.dist-info")} == {
        "greeter-0.3.0.dist-info", "hello_world-1.1.0.dist-info",
    }  # fmt: skip
    assert_failovers(result.stderr, bad_network)
    assert_from_the_good_one(bad_network)
    assert "hash" not in result.stdout.lower()  # pip itself never saw a wrong file


def test_uv_through_mm_mirror_run_and_the_cached_list_when_the_origin_is_down(bad_network, tmp_path):
    env = clean_env(tmp_path)
    venv = tmp_path / "venv"
    assert run(env, str(BIN / "uv"), "venv", "--python", sys.executable, str(venv)).returncode == 0
    install = [str(BIN / "uv"), "pip", "install", "--no-cache", "--python", str(venv / "bin" / "python"), "greeter"]
    result = mm_run(bad_network, tmp_path, *install)
    assert result.returncode == 0, result.stdout + result.stderr
    site = next(venv.glob("lib/python*/site-packages"))
    assert {"greeter-0.3.0.dist-info", "hello_world-1.1.0.dist-info"} <= {p.name for p in site.glob("*.dist-info")}
    assert_failovers(result.stderr, bad_network)
    assert_from_the_good_one(bad_network)

    # The origin stops: the next run works from the cached list, and says how old it is.
    bad_network.stand_in.shutdown()
    bad_network.stand_in.server_close()
    result = mm_run(bad_network, tmp_path, *pip_install(tmp_path / "again", "hello-world==1.0.0"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"origin unreachable .*; using the cached mirrorlist, \d+ s old", result.stderr)
    assert (tmp_path / "again" / "hello_world-1.0.0.dist-info").is_dir()


def test_run_exits_with_the_commands_exit_code(network, tmp_path):
    network.order("good")
    result = mm_run(
        network, tmp_path, sys.executable, "-c", "import os, sys; print(os.environ['PIP_INDEX_URL']); sys.exit(7)"
    )
    assert result.returncode == 7
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/full/simple/\n", result.stdout)


def test_select_writes_configurations_that_plain_pip_and_uv_use(network, tmp_path):
    network.order("refused", "behind", "good")
    # The user's own configuration folders, as pip and uv find them (not this machine's).
    env = clean_env(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    del env["PIP_CONFIG_FILE"], env["UV_NO_CONFIG"]
    for tool in ("pip", "uv"):
        result = run(env, str(BIN / "mm-mirror"), "select", "--origin", network.stand_in.url, "--timeout", "2",
                     "--cache-dir", str(tmp_path / "c"), "--write", tool)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout == network.urls["good"] + "simple/\n"
    assert (tmp_path / "xdg" / "pip" / "pip.conf").is_file() and (tmp_path / "xdg" / "uv" / "uv.toml").is_file()

    result = run(env, *pip_install(tmp_path / "pip-target", "greeter==0.3.0"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "pip-target" / "greeter-0.3.0.dist-info").is_dir()
    venv = tmp_path / "venv"
    assert run(env, str(BIN / "uv"), "venv", "--python", sys.executable, str(venv)).returncode == 0
    result = run(env, str(BIN / "uv"), "pip", "install", "--python", str(venv / "bin" / "python"), "greeter")
    assert result.returncode == 0, result.stdout + result.stderr
    assert any(path.endswith("greeter-0.3.0-py3-none-any.whl") for path in network.servers["good"].requests)
    assert next(venv.glob("lib/python*/site-packages/greeter-0.3.0.dist-info")).is_dir()
