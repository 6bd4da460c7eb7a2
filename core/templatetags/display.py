"""{% load display %}: sizes in the commands' decimal units (core.text.human_bytes), and times as "… ago"."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from core.text import human_bytes

register = template.Library()
JUST_NOW = timedelta(minutes=1)


@register.filter(name="size")
def size(value: object) -> str:
    """{{ bytes|size }}: 7.1 kB."""
    try:
        return human_bytes(float(value))
    except (TypeError, ValueError):
        return "—"


@register.filter(name="ago")
def ago(value: datetime | None) -> str:
    """{{ when|ago }}: "just now" under a minute, else "3 hours ago" (timesince's two largest units)."""
    if value is None:
        return "never"
    if timezone.now() - value < JUST_NOW:
        return "just now"
    return f"{timesince(value)} ago".replace("\xa0", " ")


@register.filter(name="duration")
def duration(seconds: object) -> str:
    """{{ 21600|duration }}: "6 hours" (timesince's two largest units)."""
    try:
        span = timedelta(seconds=int(seconds))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if span < JUST_NOW:
        return f"{span.seconds} seconds"
    now = timezone.now()
    return timesince(now - span, now).replace("\xa0", " ")
