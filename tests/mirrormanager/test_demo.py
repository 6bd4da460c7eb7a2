"""manage.py demo: idempotent, prints passwords on first run only, and leaves a published demo tree."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from sync.models import File

pytestmark = pytest.mark.django_db


def run_demo() -> str:
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def test_demo_is_idempotent_and_publishes_a_tree(mirror_root, settings):
    first = run_demo()
    assert "created account 'admin' with password" in first
    assert "created account 'operator' with password" in first
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    assert not users.get(username="operator").is_staff
    stored = File.objects.filter(state=File.State.STORED).count()
    assert stored > 0
    repomd = json.loads((mirror_root / "pub" / "full" / "repodata" / "repomd.json").read_text())
    assert repomd["collection"] == "full"
    assert repomd["counts"]["files"] == stored

    second = run_demo()
    assert "created account" not in second
    assert "passwords are in" in second
    assert users.count() == 2
    assert File.objects.filter(state=File.State.STORED).count() == stored
    credentials = (settings.VAR_DIR / "demo-credentials.txt").read_text().split("\n")
    assert [line.split()[0] for line in credentials if line] == ["admin", "operator"]
