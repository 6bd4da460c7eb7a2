"""pip's and uv's configuration files, pointed at one index URL.

pip: `[global] index-url = …` in pip.conf (other settings of the file are kept; comments are not,
since configparser does not keep them). uv: one `[[index]]` table with `default = true` in uv.toml,
between marker comments so that the next `select` replaces it and leaves the rest of the file alone.
"""

from __future__ import annotations

import configparser
import io
import os
import re
import sys
import tempfile
from pathlib import Path

from mm_mirror.config import config_home
from mm_mirror.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

BEGIN = "# BEGIN mm-mirror: written by `mm-mirror select --write uv`; the next select replaces it"
END = "# END mm-mirror"
BLOCK = re.compile(rf"\n?{re.escape(BEGIN)}\n.*?{re.escape(END)}\n?", re.DOTALL)


def default_path(tool: str) -> Path:
    """The user's configuration file of pip or uv on this platform."""
    if tool == "pip":
        if sys.platform == "win32":
            return Path(os.environ.get("APPDATA", Path.home())) / "pip" / "pip.ini"
        if sys.platform == "darwin" and not os.environ.get("XDG_CONFIG_HOME"):
            return Path.home() / "Library" / "Application Support" / "pip" / "pip.conf"
        return config_home() / "pip" / "pip.conf"
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "uv" / "uv.toml"
    return config_home() / "uv" / "uv.toml"


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_pip(path: Path, index_url: str) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as error:
        raise UsageError(f"{path} is not a pip configuration file: {error}") from None
    if not parser.has_section("global"):
        parser.add_section("global")
    parser.set("global", "index-url", index_url)
    buffer = io.StringIO()
    parser.write(buffer)
    _write_atomically(path, buffer.getvalue())


def uv_block(index_url: str) -> str:
    quoted = index_url.replace("\\", "\\\\").replace('"', '\\"')
    return f'{BEGIN}\n[[index]]\nname = "mm-mirror"\nurl = "{quoted}"\ndefault = true\n{END}\n'


def write_uv(path: Path, index_url: str) -> None:
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = ""
    rest = BLOCK.sub("\n", current).rstrip("\n")
    try:
        existing = tomllib.loads(rest)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path} is not valid TOML: {error}") from None
    others = [index for index in existing.get("index", []) if index.get("default")]
    if others or "index-url" in existing:
        raise UsageError(f"{path} already names a default index: remove it, or pass --config-path elsewhere")
    text = (rest + "\n\n" if rest else "") + uv_block(index_url)
    tomllib.loads(text)  # what we write must parse
    _write_atomically(path, text)


def write_config(tool: str, path: Path | None, index_url: str) -> Path:
    target = path or default_path(tool)
    (write_pip if tool == "pip" else write_uv)(target, index_url)
    return target
