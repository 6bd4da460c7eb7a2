"""The pages of the metadata app: collections (filters, revisions, size; private ones hidden), and /pub/,
the development server of published trees (PEP 691 negotiation, no path tricks)."""

from __future__ import annotations

import pytest

from core.text import human_bytes
from metadata.models import Collection
from metadata.services import collection_publish
from tests.metadata.conftest import make_collection

pytestmark = pytest.mark.django_db

JSON = "application/vnd.pypi.simple.v1+json"


@pytest.fixture
def tree(mirror_root):
    project = mirror_root / "pub" / "full" / "simple" / "demo"
    project.mkdir(parents=True)
    (project / "index.html").write_text("<html>demo</html>")
    (project / "index.json").write_text('{"name": "demo"}')
    (mirror_root / "pub" / "full" / "simple" / "index.html").write_text("<html>root</html>")
    (mirror_root / "store").mkdir()
    (mirror_root / "store" / "secret").write_text("not published")
    return mirror_root / "pub"


def test_collection_page_shows_filters_revisions_and_size(client, base_catalogue):
    collection = make_collection("wheels", package_types=["bdist_wheel"], include_prereleases=False)
    revision = collection_publish(collection=collection)
    page = client.get("/collections/wheels/").content.decode()
    assert "bdist_wheel" in page and "Prereleases" in page
    assert revision.repomd_sha256 in page
    assert f"<dd>{revision.files}</dd>" in page
    assert "/pub/wheels/simple/" in page


def test_collection_page_says_how_to_copy_it_and_check_the_copy(client, base_catalogue, settings):
    settings.ORIGIN_RSYNC_BASE = "rsync://origin.example/pub/"
    settings.ORIGIN_BASE_URL = "https://origin.example/"
    full = Collection.objects.get(slug="full")
    revision = collection_publish(collection=full)
    page = client.get("/collections/full/").content.decode()
    assert page.count(full.description) == 1  # the description once, not again as "what it holds"
    assert '<code data-testid="rsync-url">rsync://origin.example/pub/full/</code>' in page
    assert "mm-mirror sync rsync://origin.example/pub/full/ /srv/mirror/full --delete" in page
    assert "rsync -aH --delete-delay --delay-updates rsync://origin.example/pub/full/ /srv/mirror/full/" in page
    assert 'href="https://origin.example/pub/full/simple/"' in page
    assert "sha256sum /srv/mirror/full/repodata/repomd.json" in page and page.count(revision.repomd_sha256) >= 2
    assert f"<dt>Size</dt><dd>{human_bytes(revision.bytes)}</dd>" in page and "KB" not in page
    assert "Carry it at least every 6 hours" in page


def test_copy_commands_default_to_the_host_the_page_was_asked_from(client, base_catalogue):
    page = client.get("/collections/full/", HTTP_HOST="localhost:8000").content.decode()
    assert "rsync://localhost:8000/pub/full/" in page and 'href="http://localhost:8000/pub/full/"' in page


def test_collection_list_shows_size_files_and_just_now(client, base_catalogue):
    revision = collection_publish(collection=Collection.objects.get(slug="full"))
    row = client.get("/collections/").content.decode().split('href="/collections/full/"')[1].split("</tr>")[0]
    assert f'<td data-label="Files">{revision.files}</td>' in row and human_bytes(revision.bytes) in row
    assert ">just now</time>" in row and "0 minutes" not in row


def test_one_size_format_for_pages_and_commands():
    assert human_bytes(7126) == "7.1 kB" and human_bytes(999) == "999 B" and human_bytes(3.78e9) == "3.8 GB"
    from sync.progress import human_bytes as progress_bytes

    assert progress_bytes is human_bytes


def test_private_collections_are_hidden(client, admin_user_account):
    make_collection("secret", public=False)
    assert client.get("/collections/secret/").status_code == 404
    assert "secret" not in client.get("/collections/").content.decode()
    client.force_login(admin_user_account)
    assert client.get("/collections/secret/").status_code == 200


def test_html_by_default(client, tree):
    response = client.get("/pub/full/simple/demo/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"".join(response.streaming_content) == b"<html>demo</html>"
    assert response["Vary"] == "Accept"


def test_json_when_asked_for(client, tree):
    response = client.get("/pub/full/simple/demo/", HTTP_ACCEPT=f"{JSON}, text/html;q=0.1")
    assert response.status_code == 200
    assert response["Content-Type"] == JSON
    assert b"".join(response.streaming_content) == b'{"name": "demo"}'


@pytest.mark.parametrize(
    "path",
    ["/pub/../store/secret", "/pub/full/../../store/secret", "/pub/%2e%2e/store/secret", "/pub/full/simple/nope/"],
)
def test_path_tricks_and_missing_files_are_404(client, tree, path):
    response = client.get(path)
    assert response.status_code == 404


def test_off_in_production_mode(client, tree, settings):
    settings.SERVE_PUBLISHED = False
    assert client.get("/pub/full/simple/demo/").status_code == 404


@pytest.mark.parametrize(
    ("accept", "body"),
    [
        (f"{JSON};q=0, text/html", b"<html>demo</html>"),
        ("application/vnd.pypi.simple.latest+json", b'{"name": "demo"}'),
        (f"text/html, {JSON};q=0.5", b"<html>demo</html>"),
    ],
)
def test_negotiation_honours_q_values_and_latest(client, tree, accept, body):
    response = client.get("/pub/full/simple/demo/", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == body
    assert response["Content-Type"] == (JSON if body.startswith(b"{") else "text/html; charset=utf-8")


@pytest.mark.parametrize(
    ("path", "location"),
    [("/pub/full/simple", "simple/"), ("/pub/full/simple/demo", "demo/"), ("/pub/full", "full/")],
)
def test_a_folder_without_its_slash_is_redirected_relatively(client, tree, path, location):
    response = client.get(path, HTTP_ACCEPT=JSON, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301
    assert response["Location"] == location  # relative: right behind a TLS proxy, on any host and port
    assert client.get(path + "/").status_code != 301


@pytest.mark.parametrize("path", ["/pub/full/simple/nope", "/pub//etc", "/pub/full/../../store"])
def test_only_folders_of_the_tree_are_redirected(client, tree, path):
    assert client.get(path).status_code == 404


def test_a_package_is_served_as_it_is(client, tree):
    """No Content-Encoding: gzip for a .tar.gz (a client would unpack it and find the wrong hash)."""
    folder = tree / "full" / "packages" / "ab" / "cd" / ("abcd" + "0" * 60)
    folder.mkdir(parents=True)
    (folder / "demo-1.0.tar.gz").write_bytes(b"\x1f\x8b not really")
    response = client.get(f"/pub/full/packages/ab/cd/{folder.name}/demo-1.0.tar.gz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert not response.has_header("Content-Encoding")
