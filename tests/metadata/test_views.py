"""/pub/: the development server of published trees answers PEP 691 negotiation and refuses path tricks."""

from __future__ import annotations

import pytest

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
