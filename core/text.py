"""Text shown to the public: never a path of the machine."""

from __future__ import annotations

import re

# An absolute POSIX path of at least two parts (/var/lib/x, /tmp/sock), not a URL's path after a host name.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/(?:[\w.@+~-]+/)+[\w.@+~-]*")


def paths_redacted(text: str) -> str:
    """`text` with every absolute file-system path replaced by "…" (exception messages of drivers and the OS)."""
    return _ABSOLUTE_PATH.sub("…", text)
