"""The HTTP client's limits as configured (SYNC_*), shared by the sync and the store's repair."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from sync.engine.http import Limits
from sync.engine.netguard import AddressPolicy


def client_limits() -> Limits:
    """Timeouts, caps and retries from settings (SYNC_*)."""
    return Limits(
        connect_timeout=settings.SYNC_CONNECT_TIMEOUT,
        read_timeout=settings.SYNC_READ_TIMEOUT,
        max_index_bytes=settings.SYNC_MAX_INDEX_BYTES,
        max_file_bytes=settings.SYNC_MAX_FILE_BYTES,
        retries=settings.SYNC_RETRIES,
        backoff=settings.SYNC_RETRY_BACKOFF,
        min_rate_bytes=settings.SYNC_MIN_RATE_BYTES,
        request_deadline=settings.SYNC_REQUEST_DEADLINE,
        max_links_per_page=settings.SYNC_MAX_LINKS_PER_PAGE,
        max_archive_members=settings.SYNC_MAX_ARCHIVE_MEMBERS,
    )


def client_policy(*upstream_urls: str) -> AddressPolicy:
    """The addresses a client for these upstreams may reach: public ones, each upstream's own host:port,
    and every private one when SYNC_ALLOW_PRIVATE is set."""
    endpoints: set[tuple[str, int]] = set()
    for url in upstream_urls:
        parts = urlsplit(url)
        try:
            if parts.hostname and parts.scheme in ("http", "https"):
                endpoints.add((parts.hostname.lower(), parts.port or (443 if parts.scheme == "https" else 80)))
        except ValueError:  # a malformed port: nothing allowed beyond the public addresses
            continue
    return AddressPolicy(allow_private=settings.SYNC_ALLOW_PRIVATE, endpoints=frozenset(endpoints))
