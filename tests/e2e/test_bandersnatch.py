"""bandersnatch (the real one, a test dependency) mirrors a collection through the origin's JSON API, and pip
installs from bandersnatch's copy.

The origin is Django's live server: the tree under /pub/<slug>/ (the development view), the JSON API at
/pub/<slug>/pypi/<project>/json with X-PyPI-Last-Serial. bandersnatch downloads the files from the tree
(download-mirror = the tree's base URL), as docs/publishing.md tells operators to configure it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from metadata.models import Collection
from metadata.services import collection_publish
from sync.models import File, Upstream
from tests.e2e.test_install import clean_env, installed, pip
from tests.factories import BASE_PACKAGES, Catalogue

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BANDERSNATCH = Path(sys.executable).with_name("bandersnatch")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass


def config(tmp_path: Path, base: str) -> Path:
    path = tmp_path / "bandersnatch.conf"
    path.write_text(
        f"""[mirror]
directory = {tmp_path / "bs"}
master = {base}
download-mirror = {base}
download-mirror-no-fallback = true
allow-non-https = true
api-method = simple
json = true
release-files = true
simple-format = ALL
hash-index = false
cleanup = false
stop-on-error = true
workers = 2
timeout = 20
global-timeout = 300
"""
    )
    return path


def test_bandersnatch_mirrors_a_collection_and_pip_installs_from_its_copy(live_server, mirror_root, tmp_path):
    catalogue = Catalogue(Upstream.objects.create(name="main", url="https://upstream.example/simple/"))
    catalogue.add_all(BASE_PACKAGES)
    # As from a PEP 503 upstream: no upload time. The stand-in is when the origin first stored the file.
    stored = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
    File.objects.filter(filename__startswith="greeter").update(upload_time=None, stored_at=stored)
    collection_publish(collection=Collection.objects.get(slug="full"))
    base = f"{live_server.url}/pub/full"

    result = subprocess.run(
        [str(BANDERSNATCH), "-c", str(config(tmp_path, base)), "mirror"],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert "no longer exists" not in log
    assert "ERROR" not in log, log
    web = tmp_path / "bs" / "web"
    mirrored = sorted(path.name for path in (web / "packages").rglob("*") if path.is_file())
    published = sorted(File.objects.values_list("filename", flat=True))
    assert mirrored == published, mirrored
    assert (web / "simple" / "greeter" / "index.html").is_file()
    saved = json.loads((web / "json" / "greeter").read_text())  # the JSON API as bandersnatch stored it
    times = {f["upload_time_iso_8601"] for files in saved["releases"].values() for f in files}
    assert times == {"2025-05-06T07:08:09.000000Z"}

    handler = partial(QuietHandler, directory=str(web))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        index = f"http://127.0.0.1:{httpd.server_address[1]}/simple/"
        target = tmp_path / "target"
        installed_run = pip(tmp_path, "--index-url", index, "--target", str(target), "greeter==0.3.0")
        assert installed_run.returncode == 0, installed_run.stdout + installed_run.stderr
        assert installed(target) == {"greeter-0.3.0.dist-info", "hello_world-1.1.0.dist-info"}
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
