"""Registering upstreams."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from sync.filters import FilterSpec
from sync.models import Upstream


@transaction.atomic
def upstream_add(*, name: str, url: str, filters: dict[str, Any] | None = None) -> Upstream:
    """Register an upstream simple index (http, https, or a file:// static tree).

    The URL gets a trailing slash; filters take the shape of sync.filters.FilterSpec. Raises
    ValidationError with a message naming the bad field (scheme, URL, name taken, filters).
    """
    url = url.strip()
    if url and not url.endswith("/"):
        url += "/"
    try:
        spec = FilterSpec.from_dict(filters or {})
    except ValueError as error:
        raise ValidationError({"filters": str(error)}) from error
    upstream = Upstream(name=name, url=url, filters={} if spec.is_empty() else spec.to_dict())
    upstream.full_clean()
    upstream.save()
    return upstream
