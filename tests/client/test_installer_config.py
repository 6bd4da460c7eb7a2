"""mm_mirror.installer_config: pip.conf and uv.toml written for one index URL."""

from __future__ import annotations

import configparser
import tomllib

import pytest
from mm_mirror.errors import UsageError
from mm_mirror.installer_config import write_pip, write_uv

URL = "http://127.0.0.1:8080/full/simple/"


def test_pip_conf_keeps_other_settings(tmp_path):
    path = tmp_path / "pip.conf"
    path.write_text("[global]\ntimeout = 60\nindex-url = http://old.example/simple/\n[install]\nuser = false\n")
    write_pip(path, URL)
    parser = configparser.ConfigParser()
    parser.read(path)
    assert parser["global"]["index-url"] == URL
    assert parser["global"]["timeout"] == "60"
    assert parser["install"]["user"] == "false"


def test_pip_conf_refuses_a_broken_file(tmp_path):
    path = tmp_path / "pip.conf"
    path.write_text("index-url = no section\n")
    with pytest.raises(UsageError):
        write_pip(path, URL)
    assert path.read_text() == "index-url = no section\n"


def test_uv_toml_is_replaced_not_repeated(tmp_path):
    path = tmp_path / "sub" / "uv.toml"
    write_uv(path, "http://first.example/simple/")
    path.write_text(
        "native-tls = true\n\n" + path.read_text() + '\n[[index]]\nname = "extra"\nurl = "http://x.example/"\n'
    )
    write_uv(path, URL)
    data = tomllib.loads(path.read_text())
    assert data["native-tls"] is True
    defaults = [index for index in data["index"] if index.get("default")]
    assert defaults == [{"name": "mm-mirror", "url": URL, "default": True}]
    assert [index["name"] for index in data["index"]] == ["extra", "mm-mirror"]


def test_uv_toml_with_its_own_default_index_is_left_alone(tmp_path):
    path = tmp_path / "uv.toml"
    original = '[[index]]\nurl = "http://mine.example/simple/"\ndefault = true\n'
    path.write_text(original)
    with pytest.raises(UsageError, match="already names a default index"):
        write_uv(path, URL)
    path.write_text("this is = = not toml")
    with pytest.raises(UsageError, match="not valid TOML"):
        write_uv(path, URL)
