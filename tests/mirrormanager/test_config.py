"""Settings parsing: every bad value gives a clear error, production mode refuses unsafe settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from mirrormanager.config import (
    DEV_SECRET_KEY,
    check_production,
    env_bool,
    env_float,
    env_int,
    parse_broker_url,
    parse_database_url,
)

ROOT = Path(__file__).resolve().parents[2]
SQLITE_DEFAULT = Path("/srv/mm/var/db.sqlite3")


def test_no_database_url_means_sqlite_under_var():
    config = parse_database_url(None, default_sqlite_path=SQLITE_DEFAULT)
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(SQLITE_DEFAULT)


def test_postgres_url_selects_postgresql():
    config = parse_database_url("postgres://mm:secret@db.internal:5433/mirrors", default_sqlite_path=SQLITE_DEFAULT)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["HOST"], config["PORT"], config["USER"]) == ("mirrors", "db.internal", 5433, "mm")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/mm", "supported are postgres"),
        ("localhost:5432/mm", "scheme"),
        ("postgres://postgres@127.0.0.1:5432/", "names no database"),
        ("postgres://postgres@127.0.0.1:99999/mm", "bad port"),
        ("postgres://postgres@127.0.0.1:port/mm", "bad port"),
        ("sqlite://", "names no SQLite file"),
    ],
)
def test_bad_database_url_gives_clear_error(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_database_url(url, default_sqlite_path=SQLITE_DEFAULT)


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("off", False), ("0", False)])
def test_env_bool(raw, expected):
    assert env_bool({"X": raw}, "X", not expected) is expected


def test_env_bool_refuses_garbage():
    with pytest.raises(ImproperlyConfigured, match="X='maybe' is not a boolean"):
        env_bool({"X": "maybe"}, "X", False)


def test_env_int_refuses_garbage_and_out_of_range():
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int({"N": "eight"}, "N", 1)
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int({"N": "0"}, "N", 1, minimum=1)
    assert env_int({"N": "1000"}, "N", 1, minimum=1, maximum=1000) == 1000
    with pytest.raises(ImproperlyConfigured, match="at most 1000"):  # MIRRORLIST_MAX_MIRRORS=2**31
        env_int({"N": str(2**31)}, "N", 1, minimum=1, maximum=1000)


def test_env_float_refuses_garbage_and_out_of_range():
    assert env_float({"F": "0.25"}, "F", 0.5, minimum=0, maximum=1) == 0.25
    with pytest.raises(ImproperlyConfigured, match="not a number"):
        env_float({"F": "half"}, "F", 0.5, minimum=0, maximum=1)
    with pytest.raises(ImproperlyConfigured, match="between 0 and 1"):
        env_float({"F": "1.5"}, "F", 0.5, minimum=0, maximum=1)


def test_broker_url_must_be_redis():
    assert parse_broker_url(None) is None
    assert parse_broker_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    with pytest.raises(ImproperlyConfigured, match="must be a redis:// URL"):
        parse_broker_url("amqp://guest@localhost//")


GOOD_KEY = "k" * 20 + "-production-secret-key-of-enough-length-0123456789"


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"secret_key": DEV_SECRET_KEY}, "SECRET_KEY is the development default"),
        ({"secret_key": "short"}, "shorter than 50"),
        ({"secret_key": "x" * 60}, "SECRET_KEY is weak: fewer than 5 different characters"),
        ({"secret_key": "abab" * 20}, "SECRET_KEY is weak"),
        ({"secret_key": "django-insecure-" + GOOD_KEY}, "'django-insecure-' prefix"),
        ({"debug": True}, "DEBUG is on"),
        ({"allowed_hosts": ["*"]}, "ALLOWED_HOSTS"),
        ({"allowed_hosts": []}, "ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_unsafe_settings(kwargs, reason):
    values = {"secret_key": GOOD_KEY, "debug": False, "allowed_hosts": ["mirrors.example"]} | kwargs
    with pytest.raises(ImproperlyConfigured, match=reason):
        check_production(production=True, **values)


def test_development_accepts_defaults():
    check_production(production=False, secret_key=DEV_SECRET_KEY, debug=True, allowed_hosts=[])


def _manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "PRODUCTION"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_refuses_to_start_with_default_secret_key():
    result = _manage(["check"], {"PRODUCTION": "1", "ALLOWED_HOSTS": "mirrors.example"})
    assert result.returncode != 0
    assert "Refusing to start in production mode" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_mode_refuses_debug():
    result = _manage(["check"], {"PRODUCTION": "1", "SECRET_KEY": GOOD_KEY, "DEBUG": "1", "ALLOWED_HOSTS": "m.example"})
    assert result.returncode != 0
    assert "DEBUG is on" in result.stderr


def test_bad_database_url_stops_manage_py_with_clear_message():
    result = _manage(["check"], {"DATABASE_URL": "mysql://root@localhost/mm"})
    assert result.returncode != 0
    assert "DATABASE_URL has scheme 'mysql'" in result.stderr


def test_production_settings_pass_check_deploy():
    result = _manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {"PRODUCTION": "1", "SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "mirrors.example"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
