"""publish says each fact once: its summary on stdout, no log lines echoed on stderr; --full says what it checked."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

REPO = Path(__file__).resolve().parents[4]


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_publish_from_the_command_line_logs_nothing_on_the_terminal(tmp_path):
    env = {**os.environ, "VAR_DIR": str(tmp_path), "MIRROR_ROOT": str(tmp_path / "mirror")}
    env.pop("DATABASE_URL", None)
    env.pop("LOG_LEVEL", None)
    env.pop("CONSOLE_LOG_LEVEL", None)
    assert manage(env, "migrate", "-v0").returncode == 0
    first = manage(env, "publish", "--collection", "full")
    assert first.returncode == 0 and first.stderr == ""
    assert first.stdout.count("revision 1") == 1 and first.stdout.startswith("full: revision 1, 0 projects")
    again = manage(env, "publish", "--collection", "full", "--full")
    assert again.returncode == 0 and again.stderr == ""
    assert again.stdout == (
        "full: every page and data file checked in full (0 projects, 0 files): the tree is revision 1 as published,"
        " no new revision\n"
    )


@pytest.mark.django_db
def test_publish_says_each_collection_once(caplog):
    out, err = io.StringIO(), io.StringIO()
    call_command("publish", stdout=out, stderr=err)
    assert out.getvalue().count("full: revision 1,") == 1 and err.getvalue() == ""
    out = io.StringIO()
    call_command("publish", stdout=out, stderr=err)
    assert out.getvalue() == "full: nothing changed since revision 1 (--full checks every page again)\n"
    # The log keeps its own lines (for a log file), each once.
    assert caplog.text.count("full: nothing changed") == 1
