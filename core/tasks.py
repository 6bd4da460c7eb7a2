"""Queue tasks of the core app: thin adapters over services."""

from core.services import heartbeat_record


def heartbeat() -> str:
    """Record that a queue worker is alive."""
    beat = heartbeat_record()
    return beat.beat_at.isoformat()
