"""The HTTP client's limits as configured (SYNC_*), shared by the sync and the store's repair."""

from __future__ import annotations

from django.conf import settings

from sync.engine.http import Limits


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
    )
