"""The mirrorlist's own row: the debounce flag of the queued rebuild (registered in the mirrors app)."""

from __future__ import annotations

from django.db import models


class MirrorlistBuildFlag(models.Model):
    """One row: when a rebuild was queued and has not started yet (null: none queued)."""

    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "mirrors"

    def __str__(self) -> str:
        return f"mirrorlist build queued at {self.queued_at}" if self.queued_at else "no mirrorlist build queued"
