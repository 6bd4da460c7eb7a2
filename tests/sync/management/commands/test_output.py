"""verify, collect and a failed sync say each fact once (stdout, the CommandError, the log)."""

from __future__ import annotations

import io
import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sync.models import Upstream
from sync.sample_packages import SamplePackage
from sync.services import upstream_add, upstream_sync

pytestmark = pytest.mark.django_db


def said(command: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def synced(fake_upstream):
    fake_upstream.add(SamplePackage("mm-once", "1.0"))
    upstream_sync(upstream=upstream_add(name="main", url=fake_upstream.url))


def test_verify_says_one_summary(synced, caplog):
    out, err = said("verify")
    assert err == ""
    assert out.count("1 blobs, 1 hashed, 0 unchanged since the last full check, 0 damaged, 0 repaired") == 1
    assert "blobs hashed" not in out and out.count("verify #") == 1
    assert "hashed" not in caplog.text


def test_collect_says_its_summary_once(synced, caplog):
    out, err = said("collect", "--min-age", "0")
    assert err == "" and out.count("unreferenced blobs") == 1 and out.count("collect #") == 1
    assert "unreferenced" not in caplog.text


def test_a_failed_sync_says_its_error_once(caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    Upstream.objects.create(name="gone", url=f"http://127.0.0.1:{port}/simple/")
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("sync", stdout=out)
    text = out.getvalue()
    assert text.count("Connection refused") == 1 and text.count("sync #") == 1
    assert str(failed.value) == "1 of 1 syncs did not complete: gone failed (see the summary above)"
    assert caplog.text.count("Connection refused") <= 1  # the log line of a LogProgress-less run, if any
