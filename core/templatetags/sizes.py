"""{% load sizes %}{{ bytes|size }}: the same decimal units as the commands (core.text.human_bytes)."""

from __future__ import annotations

from django import template

from core.text import human_bytes

register = template.Library()


@register.filter(name="size")
def size(value: object) -> str:
    try:
        return human_bytes(float(value))
    except (TypeError, ValueError):
        return "—"
