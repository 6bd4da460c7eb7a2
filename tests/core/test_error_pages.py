"""The site's own 404, 403 and 500 pages, with DEBUG on and off; HEAD like GET; no error shows a path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def machine_paths(mirror_root: Path) -> list[str]:
    """Paths of this machine that a page must never show."""
    return [str(mirror_root), str(mirror_root.parent), str(django_settings.BASE_DIR), sys.prefix, os.getcwd()]


def assert_no_path(text: str, mirror_root: Path) -> None:
    for path in machine_paths(mirror_root):
        assert path not in text
    assert "/tmp/" not in text and "site-packages" not in text and "Traceback" not in text


@pytest.fixture
def published(mirror_root):
    simple = mirror_root / "pub" / "full" / "simple"
    simple.mkdir(parents=True)
    (simple / "index.html").write_text("<html>root</html>")
    return simple


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def test_head_answers_like_get_on_healthz_and_pub(client, published):
    for path in ["/healthz", "/pub/full/simple/", "/pub/full/simple/index.html", "/collections/", "/"]:
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code != 405, path
        assert head["Content-Type"] == got["Content-Type"]
        body = b"".join(head.streaming_content) if head.streaming else head.content
        assert body == b"", path
    assert client.head("/pub/full/simple/missing/").status_code == 404
    assert client.head("/healthz")["Content-Length"] == str(len(client.get("/healthz").content))
    assert client.post("/healthz").status_code == 405


def test_head_has_no_body_even_through_plain_wsgi(published):
    """Django's WSGI handler would send the body (the test client hides it): gunicorn warned on every HEAD."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.client import RequestFactory

    environ = RequestFactory().head("/healthz", HTTP_HOST="localhost").environ
    statuses = []
    body = b"".join(WSGIHandler()(environ, lambda status, headers: statuses.append((status, dict(headers)))))
    assert body == b"" and statuses[0][0].startswith(("200", "503"))
    assert int(statuses[0][1]["Content-Length"]) > 0


@pytest.mark.parametrize(
    "path",
    [
        "/pub/full/simple/missing/",
        "/pub/full/packages/aa/bb/x.whl",
        "/pub/full/../../store/secret",
        "/pub/%2e%2e/%2e%2e/etc/passwd",
        "/pub/nowhere",  # (a folder without its slash, /pub/full, is redirected: tests/metadata/test_views.py)
        "/collections/nowhere/",
        "/no/such/page/",
    ],
)
def test_404_is_the_sites_page_and_names_no_path(client, debug, published, mirror_root, path):
    answer = client.get(path)
    page = answer.content.decode() if not answer.streaming else ""
    assert answer.status_code == 404
    assert "<h1>Not found</h1>" in page and "mirrormanager" in page
    assert_no_path(page, mirror_root)


def test_403_is_the_sites_page(client, debug, mirror_root):
    client.force_login(UserFactory())
    answer = client.get("/moderation/")
    assert answer.status_code == 403 and "<h1>Not allowed</h1>" in answer.content.decode()
    assert_no_path(answer.content.decode(), mirror_root)


def test_500_is_the_sites_page_and_the_traceback_goes_to_the_log_once(debug, mirror_root, monkeypatch, caplog):
    def broken(request):
        raise OSError(f"cannot read {mirror_root}/pub/full/repodata/repomd.json")

    monkeypatch.setattr("metadata.views.collection_list_with_latest", broken)
    answer = Client(raise_request_exception=False).get("/collections/")
    page = answer.content.decode()
    assert answer.status_code == 500 and "Something went wrong" in page
    assert_no_path(page, mirror_root)
    logged = [record for record in caplog.records if record.name == "django.request"]
    assert len(logged) == 1 and logged[0].exc_info is not None  # the developer still gets the traceback


def test_api_errors_are_json_without_paths(client, debug, mirror_root):
    for path in ["/api/v1/collections/nowhere/", "/api/v1/hosts/99999/", "/api/v1/mirrorlist/nowhere/"]:
        answer = client.get(path)
        assert answer.status_code in (401, 403, 404, 503) and answer["Content-Type"].startswith("application/json")
        assert answer.json()["detail"]
        assert_no_path(answer.content.decode(), mirror_root)


def test_healthz_failures_name_no_path(client, debug, settings, mirror_root):
    settings.MIRROR_ROOT = mirror_root / "nowhere"
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert "mirror_root: does not exist" in answer.json()["reasons"]
    assert_no_path(answer.content.decode(), mirror_root)


def test_database_errors_in_healthz_lose_their_paths(client, monkeypatch):
    from django.db import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError('connection to server on socket "/run/postgresql/.s.PGSQL.5432" failed')

    monkeypatch.setattr("core.selectors.connection.cursor", refuse)
    reason = client.get("/healthz").json()["checks"]["database"]["reason"]
    assert reason == 'unreachable: OperationalError: connection to server on socket "…" failed'


def test_django_debug_pages_only_when_asked_for(client, settings, mirror_root):
    settings.DEBUG = True
    settings.DEBUG_TECHNICAL_ERRORS = True
    assert "Using the URLconf" in client.get("/no/such/page/").content.decode()


def test_a_bad_host_header_in_debug_gets_no_debug_page(debug, mirror_root):
    answer = Client(raise_request_exception=False).get("/", HTTP_HOST="elsewhere.example")
    assert answer.status_code == 400
    assert_no_path(answer.content.decode(), mirror_root)


def test_a_404_is_left_to_the_access_log(client, caplog):
    """The web server's access log has every 404; Django logging it as well made two lines of one fact."""
    import logging

    assert client.get("/no/such/page/").status_code == 404
    assert not [record for record in caplog.records if record.name == "django.request"]
    assert logging.getLogger("django").handlers == []  # Django's own console handler would print it again
