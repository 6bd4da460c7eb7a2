"""Parsing of the environment into settings values, kept apart from settings.py so it can be tested."""

from __future__ import annotations

import ipaddress
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production"  # noqa: S105

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
SUPPORTED_DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "pgsql")


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    """Read a boolean variable; anything but a clear yes or no is refused."""
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no or on/off")


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    """Read an integer variable with a lower bound (and an upper one when given)."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at most {maximum}")
    return value


def env_float(env: Mapping[str, str], name: str, default: float, *, minimum: float, maximum: float) -> float:
    """Read a number variable within bounds."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be between {minimum} and {maximum}")
    return value


def env_list(env: Mapping[str, str], name: str, default: list[str]) -> list[str]:
    """Read a comma-separated list variable."""
    raw = env.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_cidrs(env: Mapping[str, str], name: str) -> list[str]:
    """Read a comma-separated list of networks (CIDRs or single addresses), normalised; refuses bad ones."""
    networks = []
    for item in env_list(env, name, []):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not a network: use CIDRs such as 10.0.0.0/8 or 2001:db8::/32, comma-separated"
            ) from None
    return networks


def env_url(env: Mapping[str, str], name: str) -> str | None:
    """Read an optional http(s) base URL; normalised with a trailing slash."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name}={raw!r} must be an http(s) base URL such as https://origin.example/")
    return raw if raw.endswith("/") else raw + "/"


def env_rsync_url(env: Mapping[str, str], name: str) -> str | None:
    """Read an optional rsync:// base URL (a module, e.g. rsync://origin.example/pub/); with a trailing slash."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme != "rsync" or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name}={raw!r} must be an rsync:// module URL such as rsync://origin.example/pub/")
    return raw if raw.endswith("/") else raw + "/"


def parse_database_url(url: str | None, *, default_sqlite_path: Path) -> dict[str, Any]:
    """Turn DATABASE_URL into a Django DATABASES entry, with a clear error for anything unusable."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(default_sqlite_path),
            # A file, not memory, so that tests can hand the database to a real queue worker process;
            # one per test process, so that concurrent test runs never share it.
            "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"mirrormanager-test-{os.getpid()}.sqlite3")},
            # Queue workers and web processes write concurrently: wait for locks instead of failing.
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        }
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SUPPORTED_DATABASE_SCHEMES:
        raise ImproperlyConfigured(
            f"DATABASE_URL has scheme {scheme or '(none)'!r}; supported are postgres://user@host:port/name "
            "and sqlite:///path/to/file.sqlite3"
        )
    try:
        urlsplit(url).port  # noqa: B018 -- urllib validates the port only when it is read
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL has a bad port: {exc}") from None
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # dj-database-url raises several types for malformed URLs
        raise ImproperlyConfigured(f"DATABASE_URL could not be parsed: {exc}") from None
    if config["ENGINE"] == "django.db.backends.postgresql":
        if not config.get("NAME"):
            raise ImproperlyConfigured("DATABASE_URL names no database: postgres://user@host:port/<name>")
    elif config.get("NAME") in (None, "", ":memory:"):
        # Web processes and queue workers must share one database, so an in-memory one cannot work.
        raise ImproperlyConfigured("DATABASE_URL names no SQLite file: sqlite:///path/to/file.sqlite3")
    return config


def parse_broker_url(url: str | None) -> str | None:
    """Validate Q_BROKER_URL: unset means the ORM broker, else a redis:// URL."""
    if not url:
        return None
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured(f"Q_BROKER_URL must be a redis:// URL, not {scheme or '(none)'!r}")
    return url


def check_production(*, production: bool, secret_key: str, debug: bool, allowed_hosts: list[str]) -> None:
    """Refuse settings that must never reach production."""
    if not production:
        return
    problems = []
    if secret_key == DEV_SECRET_KEY or len(secret_key) < 50:
        problems.append("SECRET_KEY is the development default or shorter than 50 characters")
    elif len(set(secret_key)) < 5 or secret_key.startswith("django-insecure-"):
        # Django's own rule (security.W009): "x" * 60 is long, and no secret.
        problems.append(
            "SECRET_KEY is weak: fewer than 5 different characters or Django's 'django-insecure-' prefix "
            "(generate one: python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    if debug:
        problems.append("DEBUG is on")
    if not allowed_hosts or "*" in allowed_hosts:
        problems.append("ALLOWED_HOSTS is empty or '*'")
    if problems:
        raise ImproperlyConfigured("Refusing to start in production mode: " + "; ".join(problems))


def environ() -> Mapping[str, str]:
    """The process environment (a seam for tests)."""
    return os.environ


EMAIL_SCHEMES = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+tls": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+ssl": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def parse_email_url(url: str | None) -> dict[str, Any]:
    """Turn EMAIL_URL into Django's EMAIL_* settings; unset means the console backend.

    smtp://user:password@host:port (plain, or STARTTLS with smtp+tls://, implicit TLS with smtp+ssl:// or
    smtps://), console://, locmem://, dummy://, file:///path/to/folder. User and password are URL-decoded.
    """
    if not url:
        return {"EMAIL_BACKEND": EMAIL_SCHEMES["console"]}
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in EMAIL_SCHEMES:
        raise ImproperlyConfigured(
            f"EMAIL_URL has scheme {scheme or '(none)'!r}; supported are " + ", ".join(f"{s}://" for s in EMAIL_SCHEMES)
        )
    config: dict[str, Any] = {"EMAIL_BACKEND": EMAIL_SCHEMES[scheme]}
    if scheme == "file":
        if not parts.path or parts.path == "/":
            raise ImproperlyConfigured("EMAIL_URL file:// names no folder: file:///path/to/folder")
        config["EMAIL_FILE_PATH"] = unquote(parts.path)
    if not config["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
        return config
    try:
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"EMAIL_URL has a bad port: {exc}") from None
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL names no mail server: smtp://user:password@host:port")
    implicit_tls = scheme in ("smtp+ssl", "smtps")
    config.update(
        {
            "EMAIL_HOST": parts.hostname,
            "EMAIL_PORT": port or (465 if implicit_tls else 587 if scheme == "smtp+tls" else 25),
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_TLS": scheme == "smtp+tls",
            "EMAIL_USE_SSL": implicit_tls,
        }
    )
    return config
