"""Writes of the sync app: the catalogue and the store."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from sync.models import CatalogueSerial


def catalogue_next_serial() -> int:
    """Take the next catalogue change serial (monotonic, shared by every upstream)."""
    with transaction.atomic():
        updated = CatalogueSerial.objects.filter(pk=1).update(value=F("value") + 1)
        if not updated:
            CatalogueSerial.objects.get_or_create(pk=1, defaults={"value": 0})
            CatalogueSerial.objects.filter(pk=1).update(value=F("value") + 1)
        return CatalogueSerial.objects.values_list("value", flat=True).get(pk=1)
