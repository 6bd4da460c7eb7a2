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
