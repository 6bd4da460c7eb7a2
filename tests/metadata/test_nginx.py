"""docs/publishing.md's nginx snippet, run in a real nginx against a published tree.

Skipped without nginx, unless MM_REQUIRE_NGINX=1 (CI): then it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from metadata.services import collection_publish
from tests.conftest import need

pytestmark = pytest.mark.django_db

REQUIRE_NGINX = os.environ.get("MM_REQUIRE_NGINX") == "1"

DOC = Path(__file__).resolve().parents[2] / "docs" / "publishing.md"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def snippets() -> list[str]:
    return re.findall(r"```nginx\n(.*?)```", DOC.read_text(), flags=re.S)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answering_server(port: int) -> str | None:
    """The Server header of what answers HTTP on the port; None when nothing does (yet)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=0.5) as response:  # noqa: S310
            return response.headers.get("Server", "")
    except urllib.error.HTTPError as error:
        return error.headers.get("Server", "")
    except OSError:
        return None


def start_nginx(binary: str, prefix: Path, make_conf) -> tuple[subprocess.Popen, int]:
    """Start nginx on a free port. The port is probed, then bound by nginx: another process may take it
    in between, so a start whose port is not answered by our nginx is retried on a new port."""
    conf = prefix / "nginx.conf"
    errors = []
    for _attempt in range(5):
        port = free_port()
        conf.write_text(make_conf(port))
        process = subprocess.Popen([binary, "-p", str(prefix), "-c", str(conf)], stderr=subprocess.PIPE)
        for _ in range(100):  # 5 s at most
            if process.poll() is not None:
                break
            server = answering_server(port)
            if server is None:
                time.sleep(0.05)
                continue
            if server.startswith("nginx") and process.poll() is None:
                return process, port
            break  # something else answers there; our nginx keeps retrying its bind, then exits
        stop(process)
        log = prefix / "logs" / "error.log"
        errors.append(process.stderr.read().decode(errors="replace") + (log.read_text() if log.exists() else ""))
    pytest.fail(f"nginx did not start: {errors}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def nginx(tmp_path, mirror_root):
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    need(binary is not None, "nginx is not installed", required=REQUIRE_NGINX)
    http_part, server_part = snippets()
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    server_part = server_part.replace("root /srv/mirror/pub;", f"root {mirror_root / 'pub'};")
    # As root, nginx workers would run as nobody and not read pytest's private temporary folders.
    user = "user root root;" if os.geteuid() == 0 else ""

    def make_conf(port: int) -> str:
        return f"""
{user}
daemon off;
worker_processes 1;
error_log {prefix}/logs/error.log;
pid {prefix}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp; proxy_temp_path {prefix}/tmp; fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp; scgi_temp_path {prefix}/tmp;
    default_type application/octet-stream;
    {http_part}
    server {{
        listen 127.0.0.1:{port};
        {server_part}
    }}
}}
"""

    process, port = start_nginx(binary, prefix, make_conf)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def get(url: str, accept: str | None = None):
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own 127.0.0.1 server
        return response.headers, response.read()


def test_nginx_negotiates_pep_691_from_static_files(base_catalogue, full_collection, nginx):
    collection_publish(collection=full_collection)
    pip_accept = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
    for path in ("/full/simple/", "/full/simple/hello-world/"):
        headers, body = get(nginx + path, pip_accept)
        assert headers["Content-Type"] == JSON_TYPE
        assert body.startswith(b'{"meta":{"api-version":"1.1"')
        assert "Accept" in headers["Vary"]
        headers, body = get(nginx + path, "text/html")
        assert headers["Content-Type"].startswith("text/html")
        assert body.startswith(b"<!DOCTYPE html>")
        headers, body = get(nginx + path)
        assert headers["Content-Type"].startswith("text/html")
    headers, _ = get(nginx + "/full/repodata/repomd.json")
    assert headers["Cache-Control"] == "no-cache"


@pytest.fixture
def first_port_taken(monkeypatch):
    """The first free port found is taken by another listener before nginx binds it (the race)."""
    import sys

    module = sys.modules[__name__]
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen(8)  # accepts connections, never answers
    ports = iter([squatter.getsockname()[1]])
    real_free_port = module.free_port
    monkeypatch.setattr(module, "free_port", lambda: next(ports, None) or real_free_port())
    yield
    squatter.close()


def test_nginx_is_started_again_when_its_port_was_taken(first_port_taken, base_catalogue, full_collection, nginx):
    collection_publish(collection=full_collection)
    headers, body = get(nginx + "/full/simple/", JSON_TYPE)
    assert headers["Server"].startswith("nginx")
    assert headers["Content-Type"] == JSON_TYPE


def fetch(url: str, accept: str | None = None):
    """(status, headers, body) without following redirects; errors are answers too."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_nginx_caches_hits_only(base_catalogue, full_collection, nginx, mirror_root):
    collection_publish(collection=full_collection)
    [package] = [p for p in (mirror_root / "pub/full/packages").rglob("*.whl")][:1]
    location = package.relative_to(mirror_root / "pub").as_posix()
    status, headers, body = fetch(f"{nginx}/{location}")
    assert status == 200 and body == package.read_bytes()
    assert headers["Cache-Control"] == "max-age=31536000, immutable"

    missing = location.replace(package.name, "missing-1.0-py3-none-any.whl")
    status, headers, _ = fetch(f"{nginx}/{missing}")
    assert status == 404
    assert headers.get("Cache-Control") is None  # a CDN must not keep a missing package for a year

    status, headers, _ = fetch(f"{nginx}/full/simple/hello-world/", JSON_TYPE)
    assert status == 200 and headers["Cache-Control"] == "max-age=60"
    status, headers, _ = fetch(f"{nginx}/full/simple/not-there-yet/", JSON_TYPE)
    assert status == 404
    assert headers.get("Cache-Control") is None
    assert "Accept" in headers["Vary"]


NEGOTIATION_CASES = [
    (f"{JSON_TYPE};q=0, text/html", "html"),
    (f"{JSON_TYPE}; q=0.0, text/html", "html"),
    ("application/vnd.pypi.simple.latest+json", "json"),
    (f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01", "json"),
    ("*/*", "html"),
    (None, "html"),
]


def test_nginx_negotiation_follows_q_values_and_latest(base_catalogue, full_collection, nginx):
    from metadata.negotiation import simple_format

    collection_publish(collection=full_collection)
    for accept, form in NEGOTIATION_CASES:
        status, headers, body = fetch(f"{nginx}/full/simple/hello-world/", accept)
        assert status == 200
        assert body.startswith(b"{" if form == "json" else b"<!DOCTYPE html>"), accept
        assert simple_format(accept) == form  # the view's rules agree on these


def test_nginx_redirects_a_folder_without_its_slash_relatively(base_catalogue, full_collection, nginx):
    collection_publish(collection=full_collection)
    for path in ("/full/simple", "/full/simple/hello-world"):
        status, headers, _ = fetch(nginx + path, JSON_TYPE)
        assert status == 301
        assert headers["Location"] == path + "/"  # no scheme, host or port: right behind a TLS proxy
        assert headers.get("Cache-Control") is None
