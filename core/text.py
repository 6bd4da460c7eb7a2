"""Text shown to people: sizes said one way everywhere, and never a path of the machine."""

from __future__ import annotations

import re

# An absolute POSIX path of at least two parts (/var/lib/x, /tmp/sock), not a URL's path after a host name.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/(?:[\w.@+~-]+/)+[\w.@+~-]*")


def paths_redacted(text: str) -> str:
    """`text` with every absolute file-system path replaced by "…" (exception messages of drivers and the OS)."""
    return _ABSOLUTE_PATH.sub("…", text)


def human_bytes(count: float) -> str:
    """7.1 kB, 340.0 MB, 1.2 GB: decimal units (as MB/s), the one size format of the pages and the commands."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(count) >= size:
            return f"{count / size:.1f} {unit}"
    return f"{int(count)} B"
