"""Strings from an upstream before they reach the database: what can be stored, and a safe form of the rest.

PostgreSQL refuses NUL in text and in jsonb, and every backend refuses text that is not valid UTF-8
(a JSON page may carry lone surrogates such as "\\ud800"). One such string would fail the whole batch
it is written in, so values are checked while parsing (refused with a reason) and messages that quote
upstream text are made safe (storable_text) wherever they are recorded.
"""

from __future__ import annotations


def is_storable(value: str) -> bool:
    """Can this string be stored as is in any of our databases (no NUL, valid UTF-8)?"""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable_text(value: str, limit: int | None = None) -> str:
    """value cut to `limit` characters, with NUL and unencodable characters escaped (never raises)."""
    if limit is not None:
        value = value[:limit]
    if is_storable(value):
        return value
    return value.encode("utf-8", errors="backslashreplace").decode("utf-8").replace("\x00", "\\x00")
