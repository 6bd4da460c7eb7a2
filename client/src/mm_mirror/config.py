"""Settings from the command line, then the config file, then defaults.

The config file is TOML (`~/.config/mm-mirror/config.toml`, or `--config PATH`):

    origin = "https://origin.example/"
    collection = "full"
    cache_dir = "/var/cache/mm-mirror"
    host = 12                # check-in: the host id the origin gave this mirror
    token = "…"              # check-in: the operator's API token (or MM_MIRROR_TOKEN)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from mm_mirror.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

KNOWN_KEYS = {"origin", "collection", "cache_dir", "host", "token", "timeout"}
DEFAULT_COLLECTION = "full"


def config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def default_config_path() -> Path:
    return config_home() / "mm-mirror" / "config.toml"


def load_config(path: Path | None) -> dict[str, Any]:
    """The config file's settings; {} when the default file does not exist. An explicit path must exist."""
    explicit = path is not None
    path = path or default_config_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise UsageError(f"config file {path} does not exist") from None
        return {}
    except OSError as error:
        raise UsageError(f"config file {path}: {error.strerror}") from None
    try:
        values = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"config file {path} is not valid TOML: {error}") from None
    unknown = sorted(set(values) - KNOWN_KEYS)
    if unknown:
        raise UsageError(f"config file {path}: unknown setting(s) {', '.join(unknown)}")
    return values


def resolve(cli_value: Any, config: dict[str, Any], key: str, default: Any = None) -> Any:
    """The command line wins over the config file, which wins over the default."""
    if cli_value is not None:
        return cli_value
    return config.get(key, default)


def origin_url(value: Any) -> str:
    """The origin's base URL, with one trailing slash; http(s) only."""
    if not value:
        raise UsageError("no origin: pass --origin URL or set origin in the config file")
    text = str(value).strip()
    if not text.startswith(("http://", "https://")):
        raise UsageError(f"origin {text!r} is not an http:// or https:// URL")
    return text.rstrip("/") + "/"


def collection_slug(value: Any) -> str:
    slug = str(value or DEFAULT_COLLECTION)
    if not slug or "/" in slug or slug.startswith(".") or not slug.isprintable():
        raise UsageError(f"collection {slug!r} is not a collection slug")
    return slug
