"""The mm-mirror command line, and the distribution's promise of Python 3.9 and no server imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from mm_mirror.cli import main

SOURCES = sorted((Path(__file__).resolve().parents[2] / "client" / "src" / "mm_mirror").rglob("*.py"))
SERVER_PACKAGES = {"django", "mirrormanager", "mirrors", "metadata", "sync", "core", "rest_framework"}


def test_version_and_help():
    result = subprocess.run([Path(sys.executable).with_name("mm-mirror"), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("mm-mirror ")
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.name)
def test_sources_parse_as_python_3_9_and_import_no_server_code(path):
    tree = ast.parse(path.read_text(), feature_version=(3, 9))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & SERVER_PACKAGES
    assert imported <= set(sys.stdlib_module_names) | {"mm_mirror", "tomli"}
