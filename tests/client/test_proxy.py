"""mm_mirror.proxy: relaying, PEP 691 negotiation, hash checks and failover, with real mirrors on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.client
import json
import urllib.error
import urllib.request
from argparse import Namespace
from urllib.parse import urljoin

import mm_mirror.run as run_module
import pytest
from mm_mirror.run import running_proxy

from tests.client.servers import wait_until

pytestmark = pytest.mark.django_db

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@pytest.fixture
def logged(monkeypatch):
    lines: list[str] = []
    monkeypatch.setattr(run_module, "log", lines.append)
    return lines


def proxy(network, tmp_path, **options):
    args = Namespace(
        collection="full", cache_dir=tmp_path / "cache", timeout=2.0, read_timeout=3.0, demote_seconds=600.0,
        recheck_seconds=300.0, parallel=3,
    )  # fmt: skip
    for key, value in options.items():
        setattr(args, key, value)
    return running_proxy(args, origin=network.stand_in.url, bind="127.0.0.1", port=0)


def get(url: str, accept: str = "*/*") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - 127.0.0.1 only
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wheel_url(server, page: bytes) -> tuple[str, str]:
    """(absolute URL through the proxy, sha256) of hello_world 1.1.0's wheel, from a JSON page."""
    entry = next(f for f in json.loads(page)["files"] if f["filename"] == "hello_world-1.1.0-py3-none-any.whl")
    return urljoin(f"{server.index_url}hello-world/", entry["url"]), entry["hashes"]["sha256"]


def test_pages_negotiate_and_files_arrive_whole(network, tmp_path, logged):
    network.order("good")
    with proxy(network, tmp_path) as server:
        status, headers, body = get(server.index_url + "hello-world/", accept=JSON_TYPE)
        assert status == 200 and headers["Content-Type"] == JSON_TYPE and headers["Vary"] == "Accept"
        url, sha = wheel_url(server, body)
        status, headers, html = get(server.index_url + "hello-world/", accept="text/html")
        assert headers["Content-Type"].startswith("text/html") and b"#sha256=" in html
        status, _, data = get(url)
        assert status == 200 and hashlib.sha256(data).hexdigest() == sha
        status, _, metadata = get(url + ".metadata")
        assert status == 200 and metadata.startswith(b"Metadata-Version")
        assert get(server.index_url + "no-such-project/")[0] == 404
        status, _, body = get(server.index_url.replace("/full/simple/", "/other/"))
        assert status == 404 and b"/full/" in body
    assert not logged


def test_each_kind_of_failure_fails_over_once(network, tmp_path, logged):
    network.order("refused", "hanging", "error500", "behind", "truncated", "corrupt", "good")
    with proxy(network, tmp_path) as server:
        _, _, page = get(server.index_url + "hello-world/", accept=JSON_TYPE)
        url, sha = wheel_url(server, page)
        assert hashlib.sha256(get(url)[2]).hexdigest() == sha  # truncated, then corrupt, then good
        for _ in range(3):  # later requests go straight to the good one
            assert get(server.index_url + "greeter/")[0] == 200
            assert hashlib.sha256(get(url)[2]).hexdigest() == sha
        # The hanging mirror never held a request up: its check times out on its own, and says so.
        assert wait_until(lambda: any(line.startswith(f"failover: {network.urls['hanging']} ") for line in logged))
    failovers = [line for line in logged if line.startswith("failover: ")]
    reasons = {
        name: next((line for line in failovers if line.startswith(f"failover: {network.urls[name]} ")), "")
        for name in network.urls
    }
    assert "connection refused" in reasons["refused"]
    assert "time-out" in reasons["hanging"]
    assert "HTTP 500" in reasons["error500"]
    assert "stale: repomd.json is revision 1" in reasons["behind"]
    assert "truncated body" in reasons["truncated"]
    assert "sha256 does not match the page" in reasons["corrupt"]
    assert not reasons["good"] and not reasons["recent"]
    assert len(failovers) == 6  # each bad mirror once, however many requests followed
    assert network.servers["error500"].requests.count("/full/simple/greeter/") == 0


def test_a_large_corrupt_file_is_cut_and_the_retry_goes_elsewhere(network, tmp_path, logged):
    network.order("corrupt", "good")
    with proxy(network, tmp_path) as server:
        server.spool_limit = 0  # stream everything
        _, _, page = get(server.index_url + "hello-world/", accept=JSON_TYPE)
        url, sha = wheel_url(server, page)
        with pytest.raises((http.client.IncompleteRead, urllib.error.URLError, ConnectionError)):
            get(url)
        assert hashlib.sha256(get(url)[2]).hexdigest() == sha
    assert any(line.startswith(f"failover: {network.urls['corrupt']} ") and "sha256" in line for line in logged)


def test_a_mirror_that_falls_behind_is_noticed_at_its_recheck(network, tmp_path, logged):
    from dataclasses import replace

    network.order("recent")
    with proxy(network, tmp_path, recheck_seconds=0.0) as server:
        assert get(server.index_url)[0] == 200
        # The origin moves on: r2 is no longer allowed. The next use of the mirror rechecks it.
        server.pool.listing = replace(server.pool.listing, recent_repomd_sha256=[])
        # Requests are served while the recheck runs (a recheck is started by a use of the mirror).
        assert wait_until(
            lambda: get(server.index_url) and any("stale: repomd.json is revision 2" in x for x in logged)
        )
        assert get(server.index_url)[0] == 502


def test_no_mirror_left_is_a_502_that_says_why(network, tmp_path, logged):
    network.order("refused", "error500")
    with proxy(network, tmp_path) as server:
        status, _, body = get(server.index_url + "greeter/")
        assert status == 502
        assert b"HTTP 500" in body
        assert get(server.index_url + "greeter/")[0] == 502


def test_the_origin_down_and_no_cache_is_an_error(network, tmp_path, capsys):
    from mm_mirror.cli import main

    # The command starts at once (the proxy gets ready while it does), so it is stopped when there is no list.
    args = ["run", "--origin", "http://127.0.0.1:9/", "--cache-dir", str(tmp_path / "none"), "--", "sleep", "30"]
    assert main(args) == 3
    err = capsys.readouterr().err
    assert "no cached mirrorlist" in err and "the command was stopped" in err
    assert main(["run", "--origin", network.stand_in.url]) == 2
