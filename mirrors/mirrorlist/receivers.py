"""Signal receivers: registry changes and finished probe runs queue one debounced rebuild."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from mirrors.signals import probes_finished, registry_changed

log = logging.getLogger(__name__)


@receiver(registry_changed, dispatch_uid="mirrorlist-registry-changed")
@receiver(probes_finished, dispatch_uid="mirrorlist-probes-finished")
def mirrorlist_rebuild_on_change(sender: Any, **kwargs: Any) -> None:
    from mirrors.mirrorlist.services import mirrorlist_rebuild_request

    def queue() -> None:
        try:
            mirrorlist_rebuild_request()
        except Exception:  # a failed queueing must not break the registry write; the schedule catches up
            log.exception("mirrorlist: could not queue a rebuild")

    transaction.on_commit(queue)
