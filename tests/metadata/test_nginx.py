"""docs/publishing.md's nginx snippet, run in a real nginx against a published tree (skipped without nginx)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from metadata.services import collection_publish
from tests.conftest import need

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "publishing.md"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def snippets() -> list[str]:
    return re.findall(r"```nginx\n(.*?)```", DOC.read_text(), flags=re.S)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def nginx(tmp_path, mirror_root):
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    need(binary is not None, "nginx is not installed", required=False)
    http_part, server_part = snippets()
    port = free_port()
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    server_part = server_part.replace("root /srv/mirror/pub;", f"root {mirror_root / 'pub'};")
    conf = prefix / "nginx.conf"
    # As root, nginx workers would run as nobody and not read pytest's private temporary folders.
    user = "user root root;" if os.geteuid() == 0 else ""
    conf.write_text(
        f"""
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
    )
    process = subprocess.Popen([binary, "-p", str(prefix), "-c", str(conf)], stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            if process.poll() is not None:
                pytest.fail(f"nginx exited: {process.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


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
