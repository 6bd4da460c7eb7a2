"""`mm-mirror checkin`: a private mirror tells the origin which revision it holds."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from mm_mirror import httpget
from mm_mirror.errors import OriginError, UsageError
from mm_mirror.tree import REPOMD


@dataclass(frozen=True)
class CheckinResult:
    state: str
    answer: dict


def repomd_sha256(dest: Path) -> str:
    try:
        return hashlib.sha256((dest / REPOMD).read_bytes()).hexdigest()
    except FileNotFoundError:
        raise UsageError(f"{dest / REPOMD} does not exist: sync the copy first") from None


def mirror_checkin(*, origin: str, collection: str, dest: Path, host: int, token: str, timeout: float) -> CheckinResult:
    """POST /api/v1/checkin/ with DEST's repomd.json hash; the state the origin now counts it as."""
    if not token:
        raise UsageError("no token: pass --token, set MM_MIRROR_TOKEN or token in the config file")
    body = {"host": host, "collection": collection, "repomd_sha256": repomd_sha256(dest)}
    response = httpget.request(
        f"{origin}api/v1/checkin/",
        method="POST",
        body=json.dumps(body).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json", "Accept": "application/json"},
        timeout=timeout,
    )
    try:
        answer = json.loads(response.body) if response.body else {}
    except ValueError:
        answer = {}
    if response.status >= 400 or not isinstance(answer, dict):
        message = (answer.get("detail") or answer.get("message") or answer) if isinstance(answer, dict) else answer
        text = message if isinstance(message, str) else json.dumps(message) if message else ""
        raise OriginError(
            f"check-in refused (HTTP {response.status}): {text or response.body[:200].decode('utf-8', 'replace')}"
        )
    return CheckinResult(state=str(answer.get("state", "")), answer=answer)
