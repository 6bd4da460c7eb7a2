"""Receivers of signals sent by lower apps: each one only queues a task."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def publication_queue(sender: Any, **kwargs: Any) -> None:
    """sync.signals.catalogue_changed: queue metadata.tasks.publish_task; never breaks a sync."""
    try:
        from django_q.tasks import async_task

        async_task("metadata.tasks.publish_task")
    except Exception:
        logger.exception("could not queue publication")


def published_copies_repair(sender: Any, sha256s: list[str], **kwargs: Any) -> None:
    """sync.signals.blobs_repaired: re-link the published copies of the repaired blobs now.

    Not queued, unlike every other receiver: until it runs, the trees serve the damaged inodes, and the
    work is small (the names of the repaired blobs only). It never raises into the verify.
    """
    from metadata.services import published_blobs_repair

    try:
        published_blobs_repair(sha256s=sha256s)
    except Exception:
        logger.exception("could not re-link the published copies of repaired blobs")
