"""Registering upstreams, from code and from the command line; the admin pages."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from sync.models import StoreRun, Upstream
from sync.services import upstream_add

pytestmark = pytest.mark.django_db


def test_upstream_add_accepts_http_https_and_file():
    assert upstream_add(name="a", url="https://upstream.example/simple").url == "https://upstream.example/simple/"
    assert upstream_add(name="b", url="http://127.0.0.1:8080/simple/").url.startswith("http://")
    assert upstream_add(name="c", url="file:///srv/upstream/simple/").url == "file:///srv/upstream/simple/"


@pytest.mark.parametrize(
    "url", ["ftp://upstream.example/simple/", "javascript:alert(1)", "upstream.example/simple", "file://host/x/", ""]
)
def test_upstream_add_refuses_other_urls(url):
    with pytest.raises(ValidationError, match="url"):
        upstream_add(name="bad", url=url)
    assert not Upstream.objects.exists()


def test_upstream_add_refuses_bad_filters_and_duplicate_names():
    with pytest.raises(ValidationError, match="filters"):
        upstream_add(name="x", url="https://upstream.example/simple/", filters={"colour": ["red"]})
    upstream_add(name="x", url="https://upstream.example/simple/")
    with pytest.raises(ValidationError, match="name"):
        upstream_add(name="x", url="https://upstream.example/simple/")


def test_upstream_add_command():
    out = io.StringIO()
    call_command(
        "upstream_add",
        "main",
        "https://upstream.example/simple/",
        "--include",
        "django*",
        "--exclude",
        "x",
        "--no-check",  # upstream.example is not there (the check itself: tests/sync/management/commands/)
        stdout=out,
    )
    assert "added upstream main" in out.getvalue()
    upstream = Upstream.objects.get(name="main")
    assert upstream.filters["include_projects"] == ["django*"]
    assert upstream.filters["exclude_projects"] == ["x"]
    with pytest.raises(CommandError, match="scheme"):
        call_command("upstream_add", "other", "ftp://upstream.example/simple/")


def test_admin_lists_runs(client, admin_user_account):
    upstream = upstream_add(name="main", url="https://upstream.example/simple/")
    run = StoreRun.objects.create(upstream=upstream, outcome=StoreRun.Outcome.PARTIAL, files_failed=1)
    run.failures = [{"project": "demo", "filename": "demo-1.0.tar.gz", "reason": "HTTP 404"}]
    run.save()
    client.force_login(admin_user_account)
    for path in (
        "/admin/sync/storerun/",
        f"/admin/sync/storerun/{run.pk}/change/",
        "/admin/sync/upstream/",
        "/admin/sync/project/",
        "/admin/sync/file/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    detail = client.get(f"/admin/sync/storerun/{run.pk}/change/").content.decode()
    assert "HTTP 404" in detail
