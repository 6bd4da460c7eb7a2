"""Shared fixtures and factories. Feature fixtures live in each folder's own conftest.py."""

from __future__ import annotations

import importlib
import os
import shutil
import socket
from pathlib import Path

import pytest

# CI sets these so that tests needing a service or a browser fail instead of skipping.
REQUIRE_POSTGRES = os.environ.get("MM_REQUIRE_POSTGRES") == "1"
REQUIRE_BROWSER = os.environ.get("MM_REQUIRE_BROWSER") == "1"
REQUIRE_REDIS = os.environ.get("MM_REQUIRE_REDIS") == "1"


def need(condition: bool, reason: str, *, required: bool) -> None:
    """Skip when a service is missing, unless CI says it must be there: then fail."""
    if condition:
        return
    if required:
        pytest.fail(f"required but unavailable: {reason}")
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def mirror_root(tmp_path: Path, settings) -> Path:
    """Every test gets its own empty MIRROR_ROOT and VAR_DIR."""
    root = tmp_path / "mirror"
    root.mkdir()
    settings.MIRROR_ROOT = root
    settings.VAR_DIR = tmp_path / "var"
    return root


@pytest.fixture
def operator_user(django_user_model):
    return django_user_model.objects.create_user("operator", "operator@example.org", "operator-pass-1234")


@pytest.fixture
def admin_user_account(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.org", "admin-pass-1234")


@pytest.fixture(scope="session")
def chromium_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    need(bool(chromium and driver), "chromium and chromedriver are not installed", required=REQUIRE_BROWSER)
    return chromium, driver


# Rows that data migrations seed; a transactional test's flush empties every table, these too.
DATA_MIGRATION_SEEDS = (
    ("metadata.migrations.0002_full_collection", "create_full_collection"),
    ("mirrors.migrations.0003_mirrorlist_continent_redirects", "seed"),
)


@pytest.fixture(autouse=True)
def data_migration_rows(request) -> None:
    """Seed the data migrations' rows again for transactional tests, whatever test flushed before them."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    for module, function in DATA_MIGRATION_SEEDS:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def fast_and_quiet_settings(settings):
    """No poller thread of the mirrorlist (a web process's; it holds a database connection of its own, which
    keeps PostgreSQL's test database busy at teardown), and a fast password hasher for the factories' users."""
    from mirrors.mirrorlist import runtime

    settings.MIRRORLIST_POLL = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    runtime.reset()
    yield
    runtime.reset()
