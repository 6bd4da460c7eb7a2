"""upstream_add checks the root page (--no-check skips it); upstream_list, _disable, _enable and _remove."""

from __future__ import annotations

import io
import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sync.models import File, Upstream
from sync.sample_packages import SamplePackage
from sync.services import upstream_sync

pytestmark = pytest.mark.django_db
SAMPLE_PACKAGES = [SamplePackage(f"mm-u{number}", "1.0") for number in range(2)]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_upstream_add_checks_the_root_page(fake_upstream):
    for package in SAMPLE_PACKAGES[:2]:
        fake_upstream.add(package)
    said = run("upstream_add", "main", fake_upstream.url)
    assert said == (
        f"added upstream main at {fake_upstream.url}: its root page lists 2 projects;"
        " `manage.py sync --upstream main` fetches them\n"
    )
    assert fake_upstream.hits["/simple/"] == 1


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("file:///nonexistent/simple/", "the root page does not answer"),
        (None, "the root page does not answer"),  # http://127.0.0.1:<closed port>/simple/
        ("json-without-projects", "the root page is not a simple index: JSON root page without a 'projects' list"),
    ],
)
def test_upstream_add_refuses_an_upstream_that_is_not_there(url, says, tmp_path):
    if url is None:
        url = f"http://127.0.0.1:{closed_port()}/simple/"
    elif url == "json-without-projects":
        (tmp_path / "index" / "simple").mkdir(parents=True)
        (tmp_path / "index" / "simple" / "index.json").write_text('{"meta": {"api-version": "1.1"}}')
        url = (tmp_path / "index" / "simple").as_uri() + "/"
    with pytest.raises(CommandError) as refused:
        run("upstream_add", "main", url)
    message = str(refused.value)
    assert message.startswith("upstream not added: url: ") and says in message
    assert message.endswith("(use --no-check to register it anyway)")
    assert not Upstream.objects.exists()
    assert "(not checked)" in run("upstream_add", "main", url, "--no-check")
    assert Upstream.objects.get().enabled


def test_bad_names_and_schemes_are_refused_before_any_check():
    with pytest.raises(CommandError, match="the scheme must be http, https or file") as refused:
        run("upstream_add", "main", "ftp://upstream.example/simple/")
    assert "--no-check" not in str(refused.value)


def test_list_disable_enable(fake_upstream):
    fake_upstream.add(SAMPLE_PACKAGES[0])
    assert run("upstream_list") == "no upstream yet: add one with manage.py upstream_add NAME URL\n"
    run("upstream_add", "main", fake_upstream.url)
    upstream_sync(upstream=Upstream.objects.get())
    listed = run("upstream_list")
    assert listed.startswith(f"main  enabled  {fake_upstream.url}\n    1 projects, 1 files stored (")
    assert "last synced 20" in listed
    assert run("upstream_disable", "main").startswith("upstream main disabled: syncs skip it")
    assert not Upstream.objects.get().enabled and "main  disabled" in run("upstream_list")
    assert run("upstream_enable", "main") == "upstream main enabled: the next sync includes it\n"
    assert Upstream.objects.get().enabled
    with pytest.raises(CommandError, match="no upstream named 'nope' \\(see manage.py upstream_list\\)"):
        run("upstream_disable", "nope")


def test_remove_says_what_happens_to_the_files_and_wants_yes(fake_upstream):
    fake_upstream.add(SAMPLE_PACKAGES[0])
    run("upstream_add", "main", fake_upstream.url)
    upstream_sync(upstream=Upstream.objects.get())
    with pytest.raises(CommandError) as refused:
        run("upstream_remove", "main")
    message = str(refused.value)
    assert message.startswith("upstream main has 1 projects and 1 files (")
    assert "`manage.py publish --full`" in message and "`manage.py collect`" in message
    assert message.endswith("Nothing removed: run again with --yes")
    assert Upstream.objects.exists() and File.objects.exists()
    said = run("upstream_remove", "main", "--yes")
    assert said.startswith("removed upstream main with 1 projects and 1 files")
    assert not Upstream.objects.exists() and not File.objects.exists()


def test_remove_without_files_needs_no_yes_and_a_collection_that_needs_it_refuses():
    from tests.factories import CollectionFactory, UpstreamFactory

    UpstreamFactory(name="empty")
    assert run("upstream_remove", "empty") == "removed upstream empty (it had no files)\n"
    CollectionFactory(slug="only-main", upstream=UpstreamFactory(name="main"))
    with pytest.raises(CommandError, match="collection .*only-main.* publishes only upstream main"):
        run("upstream_remove", "main", "--yes")
    assert Upstream.objects.filter(name="main").exists()
