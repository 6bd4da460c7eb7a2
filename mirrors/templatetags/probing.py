"""Template filters of the probes: a lag in human terms, and the look of a probe state."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from mirrors.probing.charts import duration_label

register = template.Library()


@register.filter
def lag_human(seconds: int | None) -> str:
    """12 min, 3 h 20 min, 2 d 4 h; empty when unknown."""
    if seconds is None:
        return ""
    return duration_label(seconds)


@register.filter
def percent(share: float) -> str:
    return f"{share * 100:.0f} %"


@register.filter
def checked_ago(moment: datetime | None) -> str:
    """just now, 5 minutes ago, 2 hours ago."""
    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment)} ago"
