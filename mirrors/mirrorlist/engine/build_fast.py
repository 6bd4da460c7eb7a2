"""Build the compiled mirrorlist lookup in place: `python -m mirrors.mirrorlist.engine.build_fast`.

Cython turns engine/_fastselect.pyx into C and the C compiler that built this Python makes the extension
beside it, stamped with the source's SHA-256 (engine/fast.py uses it only when the stamp matches the source).
`make setup` runs this; when it cannot (no compiler, no Cython) the Python lookup serves alone.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_name("_fastselect.pyx")


def target() -> Path:
    return SOURCE.with_name("_fastselect" + sysconfig.get_config_var("EXT_SUFFIX"))


def build() -> Path:
    """Compile the extension; CalledProcessError or OSError when a step fails (the old one stays)."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    compiler = shlex.split(sysconfig.get_config_var("CC") or "cc")
    out = target()
    with tempfile.TemporaryDirectory(prefix="fastselect-") as tmp:
        c_file = Path(tmp) / "_fastselect.c"
        subprocess.run([sys.executable, "-m", "cython", "-3", "-o", str(c_file), str(SOURCE)], check=True)
        built = Path(tmp) / out.name
        subprocess.run(
            [*compiler, "-O2", "-shared", "-fPIC", f"-I{sysconfig.get_paths()['include']}",
             f'-DMM_SOURCE_SHA256="{digest}"', str(c_file), "-o", str(built), "-lm"],
            check=True,
        )  # fmt: skip
        fd, staged = tempfile.mkstemp(dir=out.parent, prefix=".fastselect-", suffix=".so")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(built.read_bytes())
            os.chmod(staged, 0o644)  # mkstemp makes it 0600: other users (a web server) must read it
            os.replace(staged, out)  # atomic: a running server keeps the file it mapped
        except BaseException:
            Path(staged).unlink(missing_ok=True)
            raise
    return out


def main() -> int:
    try:
        out = build()
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"the compiled mirrorlist lookup was not built ({exc}); the Python lookup serves", file=sys.stderr)
        return 1
    print(f"built {out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
