"""A fresh web process that starts while the database is down serves the snapshot cached on local disk."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]

SCRIPT = r"""
import io, json, sys
from mirrormanager.wsgi import application

def call(app, query):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/v1/mirrorlist/full/", "QUERY_STRING": query,
               "REMOTE_ADDR": "192.0.2.7", "HTTP_HOST": "127.0.0.1", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
               "wsgi.errors": io.StringIO(), "SERVER_PROTOCOL": "HTTP/1.1"}
    seen = {}
    def start_response(status, headers, exc_info=None):
        seen["status"] = int(status.split()[0])
    body = b"".join(app(environ, start_response))
    return seen["status"], body.decode()

fast = call(application, "format=json")
django_view = call(application.app, "format=txt")  # the DRF view, past the fast path
from django.db import connection
try:
    connection.ensure_connection()
    database = "up"
except Exception:
    database = "down"
print(json.dumps({"fast": fast, "django": django_view, "database": database}))
"""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_fresh_process_with_the_database_down(network, settings):
    cache = Path(settings.VAR_DIR) / "mirrorlist" / "snapshot.bin"
    assert cache.exists()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{_closed_port()}/mm_down",
        "VAR_DIR": str(settings.VAR_DIR),
        "MIRROR_ROOT": str(settings.MIRROR_ROOT),
        "ORIGIN_BASE_URL": "https://origin.example/",
        "MIRRORLIST_POLL": "1",
        "DJANGO_SETTINGS_MODULE": "mirrormanager.settings",
    }
    env.pop("MIRRORLIST_REDIS_URL", None)
    env.pop("Q_BROKER_URL", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["database"] == "down"
    status, body = result["fast"]
    assert status == 200, body
    hosts = [entry["host"] for entry in json.loads(body)["mirrors"]]
    assert hosts[0] == "net.mirror.example.org" and hosts[-1] == "origin"
    status, body = result["django"]
    assert status == 200 and body.splitlines()[-1] == "https://origin.example/pub/full/"
