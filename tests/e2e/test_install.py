"""Real installers against a published tree served over HTTP on 127.0.0.1: pip and uv.

The tree is served as static files by http.server, negotiating the simple pages with the rules of
docs/publishing.md (metadata.negotiation.simple_format, which nginx's map follows for these clients):
index.json (PEP 691) when the Accept header prefers application/vnd.pypi.simple.v1+json, index.html
(PEP 503) otherwise. One test serves HTML only.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from metadata.negotiation import simple_format
from metadata.services import collection_publish
from sync.blobstore import blob_path
from sync.models import File
from tests.factories import BASE_PACKAGES, Catalogue
from tests.metadata.conftest import make_collection

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

UV = Path(sys.executable).with_name("uv")
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
SIMPLE_FOLDER = re.compile(r"^/[^/]+/simple/(?:[^/]+/)?$")


class NegotiatingHandler(SimpleHTTPRequestHandler):
    """Static files; a simple/ folder answers with index.json or index.html by the Accept header.

    The server logs (path, Accept, Content-Type served) of every request in `served`.
    """

    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass

    def do_GET(self):  # noqa: N802
        self.server.requests.append(self.path)
        super().do_GET()

    def send_head(self):
        path = self.path.split("?", 1)[0]
        accept = self.headers.get("Accept", "")
        if not SIMPLE_FOLDER.match(path):
            self.server.served.append((path, accept, self.guess_type(path)))
            return super().send_head()
        as_json = self.server.negotiate and simple_format(accept) == "json"
        page = Path(self.translate_path(path)) / ("index.json" if as_json else "index.html")
        if not page.is_file():
            self.send_error(404)
            return None
        content_type = JSON_TYPE if as_json else "text/html"
        self.server.served.append((path, accept, content_type))
        handle = open(page, "rb")  # noqa: SIM115 - closed by the base class after copyfile
        self.send_response(200)
        self.send_header("Content-Type", content_type if as_json else "text/html; charset=utf-8")
        self.send_header("Content-Length", str(page.stat().st_size))
        self.send_header("Vary", "Accept")
        self.end_headers()
        return handle


@pytest.fixture
def published(db, mirror_root):
    """The sample catalogue, published as `full` and as a filtered `wheels-stable`."""
    from sync.models import Upstream

    catalogue = Catalogue(Upstream.objects.create(name="main", url="https://upstream.example/simple/"))
    catalogue.add_all(BASE_PACKAGES)
    collection_publish(
        collection=make_collection("wheels-stable", package_types=["bdist_wheel"], include_prereleases=False)
    )
    from metadata.models import Collection

    collection_publish(collection=Collection.objects.get(slug="full"))
    return mirror_root / "pub"


def serve(published: Path, *, negotiate: bool):
    handler = partial(NegotiatingHandler, directory=str(published))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.requests = []
    httpd.served = []
    httpd.negotiate = negotiate
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture
def server(published):
    """Negotiates PEP 691 JSON, as the documented nginx configuration does."""
    yield from serve(published, negotiate=True)


@pytest.fixture
def html_server(published):
    """Serves PEP 503 HTML only, whatever the client accepts (a plain static server)."""
    yield from serve(published, negotiate=False)


def project_pages(server, slug: str = "full") -> list[tuple[str, str, str]]:
    """(path, Accept, Content-Type served) of every project page request."""
    return [entry for entry in server.served if re.match(rf"^/{slug}/simple/[^/]+/$", entry[0])]


def assert_json_negotiated(server) -> None:
    pages = project_pages(server)
    assert pages
    for path, accept, content_type in pages:
        assert accept.split(",")[0].strip() == JSON_TYPE, (path, accept)  # the client prefers JSON...
        assert content_type == JSON_TYPE, path  # ...and got it


def index_url(server, slug: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/{slug}/simple/"


def clean_env(tmp_path: Path) -> dict[str, str]:
    """No pip or uv configuration of this machine: only our index."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        HOME=str(tmp_path / "home"),
        NO_PROXY="127.0.0.1",
    )
    return env


def pip(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", "--isolated", "install", "--no-cache-dir", "--progress-bar", "off"]
    return subprocess.run(
        [*command, *args], env=clean_env(tmp_path), capture_output=True, text=True, timeout=180, check=False
    )


def uv(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(UV), *args], env=clean_env(tmp_path), capture_output=True, text=True, timeout=180, check=False
    )


def installed(target: Path) -> set[str]:
    return {path.name for path in target.glob("*.dist-info")}


def test_pip_installs_with_hashes_and_pep658_metadata(server, tmp_path):
    target = tmp_path / "target"
    result = pip(tmp_path, "--index-url", index_url(server, "full"), "--target", str(target), "greeter==0.3.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed(target) == {"greeter-0.3.0.dist-info", "hello_world-1.1.0.dist-info"}
    # pip read the PEP 658 metadata files (resolution without downloading the wheels first).
    assert any(path.endswith("greeter-0.3.0-py3-none-any.whl.metadata") for path in server.requests)
    assert any(path.endswith("hello_world-1.1.0-py3-none-any.whl.metadata") for path in server.requests)
    assert any(path == "/full/simple/greeter/" for path in server.requests)
    assert_json_negotiated(server)
    assert {path for path, _, _ in project_pages(server)} == {"/full/simple/greeter/", "/full/simple/hello-world/"}


def test_latest_versions_keeps_installable_releases_when_the_newest_are_yanked(server, tmp_path):
    """latest_versions=2 over a project whose two newest releases are yanked: pip still finds the installable
    ones (before, the collection kept only the two yanked releases and pip found nothing to install)."""
    from sync.models import Upstream
    from sync.sample_packages import SamplePackage

    catalogue = Catalogue(Upstream.objects.get(name="main"))
    for version, yanked in (("1.0", False), ("2.0", False), ("3.0", True), ("4.0", True)):
        catalogue.add(SamplePackage("shaky", version), yanked=yanked, yanked_reason="broken" if yanked else "")
    collection_publish(collection=make_collection("latest-two", latest_versions=2))
    target = tmp_path / "target"
    result = pip(tmp_path, "--index-url", index_url(server, "latest-two"), "--target", str(target), "shaky")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed(target) == {"shaky-2.0.dist-info"}
    # The yanked releases newer than the second installable one are kept: a pin on one still installs.
    result = pip(
        tmp_path, "--index-url", index_url(server, "latest-two"), "--target", str(tmp_path / "t4"), "shaky==4.0"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed(tmp_path / "t4") == {"shaky-4.0.dist-info"}


def test_pip_require_hashes(server, tmp_path):
    wheel = File.objects.get(filename="hello_world-1.0.0-py3-none-any.whl")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"hello-world==1.0.0 --hash=sha256:{wheel.sha256}\n")
    target = tmp_path / "target"
    result = pip(
        tmp_path,
        "--index-url",
        index_url(server, "full"),
        "--only-binary",
        ":all:",
        "--require-hashes",
        "-r",
        str(requirements),
        "--target",
        str(target),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed(target) == {"hello_world-1.0.0.dist-info"}

    requirements.write_text(f"hello-world==1.0.0 --hash=sha256:{'0' * 64}\n")
    result = pip(
        tmp_path, "--index-url", index_url(server, "full"), "--require-hashes", "-r", str(requirements),
        "--only-binary", ":all:", "--target", str(tmp_path / "other"),
    )  # fmt: skip
    assert result.returncode != 0
    assert "DO NOT MATCH THE HASHES" in result.stderr


def test_a_corrupt_file_on_a_mirror_is_refused(server, published, tmp_path):
    wheel = File.objects.get(filename="hello_world-1.1.0-py3-none-any.whl")
    path = published / "full" / "packages" / wheel.sha256[:2] / wheel.sha256[2:4] / wheel.sha256 / wheel.filename
    other = File.objects.get(filename="hello_world-1.0.0-py3-none-any.whl")
    path.unlink()  # break the hardlink: the store keeps the good copy
    # A valid wheel, but not the one the page promises.
    path.write_bytes(blob_path(other.sha256).read_bytes())
    assert hashlib.sha256(path.read_bytes()).hexdigest() != wheel.sha256
    result = pip(
        tmp_path,
        "--index-url",
        index_url(server, "full"),
        "--target",
        str(tmp_path / "t"),
        "hello-world==1.1.0",
        "--only-binary",
        ":all:",
    )
    assert result.returncode != 0
    assert "HASH" in result.stderr.upper()
    venv = tmp_path / "venv"
    assert uv(tmp_path, "venv", "--python", sys.executable, str(venv)).returncode == 0
    result = uv(
        tmp_path, "pip", "install", "--no-cache", "--python", str(venv / "bin" / "python"),
        "--index-url", index_url(server, "full"), "--only-binary", ":all:", "hello-world==1.1.0",
    )  # fmt: skip
    assert result.returncode != 0
    assert "hash" in result.stderr.lower()


def test_uv_installs_from_the_tree(server, tmp_path):
    venv = tmp_path / "venv"
    result = uv(tmp_path, "venv", "--python", sys.executable, str(venv))
    assert result.returncode == 0, result.stderr
    result = uv(
        tmp_path, "pip", "install", "--no-cache", "--python", str(venv / "bin" / "python"),
        "--index-url", index_url(server, "full"), "greeter",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    site = next(venv.glob("lib/python*/site-packages"))
    assert {"greeter-0.3.0.dist-info", "hello_world-1.1.0.dist-info"} <= installed(site)
    # uv fetched the PEP 658 metadata too, and the wheels themselves.
    assert any(path.endswith(".whl.metadata") for path in server.requests)
    assert_json_negotiated(server)
    assert "/full/simple/greeter/" in {path for path, _, _ in project_pages(server)}


def test_pip_and_uv_install_from_html_pages_only(html_server, tmp_path):
    target = tmp_path / "target"
    result = pip(tmp_path, "--index-url", index_url(html_server, "full"), "--target", str(target), "greeter==0.3.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed(target) == {"greeter-0.3.0.dist-info", "hello_world-1.1.0.dist-info"}
    venv = tmp_path / "venv"
    assert uv(tmp_path, "venv", "--python", sys.executable, str(venv)).returncode == 0
    result = uv(
        tmp_path, "pip", "install", "--no-cache", "--python", str(venv / "bin" / "python"),
        "--index-url", index_url(html_server, "full"), "greeter",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    pages = project_pages(html_server)
    assert pages and {content_type for _, _, content_type in pages} == {"text/html"}
    # Both asked for JSON first and made do with the HTML, PEP 658 metadata included.
    assert all(accept.startswith(JSON_TYPE) for _, accept, _ in pages)
    assert any(path.endswith("greeter-0.3.0-py3-none-any.whl.metadata") for path in html_server.requests)


def test_a_filtered_collection_does_not_offer_what_it_excludes(server, tmp_path):
    url = index_url(server, "wheels-stable")
    # The prerelease is not there, even when asked for.
    result = pip(tmp_path, "--index-url", url, "--target", str(tmp_path / "a"), "hello-world==2.0.0rc1")
    assert result.returncode != 0
    assert "No matching distribution" in result.stderr
    result = pip(tmp_path, "--index-url", url, "--pre", "--target", str(tmp_path / "b"), "hello-world")
    assert result.returncode == 0, result.stderr
    assert installed(tmp_path / "b") == {"hello_world-1.1.0.dist-info"}
    # No sdists: asking for source only finds nothing.
    result = pip(tmp_path, "--index-url", url, "--no-binary", ":all:", "--target", str(tmp_path / "c"), "numbers")
    assert result.returncode != 0
    assert not any("/wheels-stable/packages/" in path and path.endswith(".tar.gz") for path in server.requests)
    venv = tmp_path / "venv"
    assert uv(tmp_path, "venv", "--python", sys.executable, str(venv)).returncode == 0
    result = uv(
        tmp_path, "pip", "install", "--no-cache", "--prerelease", "allow", "--python", str(venv / "bin" / "python"),
        "--index-url", url, "hello-world==2.0.0rc1",
    )  # fmt: skip
    assert result.returncode != 0
