"""Writes of the core app: the queue heartbeat."""

from __future__ import annotations

import os
import socket

from django.conf import settings
from django.utils import timezone

from core.models import WorkerHeartbeat


def heartbeat_record() -> WorkerHeartbeat:
    """Store the current time as this cluster's last heartbeat."""
    beat, _ = WorkerHeartbeat.objects.update_or_create(
        cluster=settings.Q_CLUSTER["name"],
        defaults={"beat_at": timezone.now(), "host": socket.gethostname(), "pid": os.getpid()},
    )
    return beat
