"""Signal receivers: registry changes, finished probe runs and new revisions queue one debounced rebuild."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from metadata.signals import revision_committed
from mirrors.signals import probes_finished, registry_changed

log = logging.getLogger(__name__)


@receiver(registry_changed, dispatch_uid="mirrorlist-registry-changed")
@receiver(probes_finished, dispatch_uid="mirrorlist-probes-finished")
# A new revision changes which mirrors are current and what the metalink names.
@receiver(revision_committed, dispatch_uid="mirrorlist-revision-committed")
def mirrorlist_rebuild_on_change(sender: Any, **kwargs: Any) -> None:
    from mirrors.mirrorlist.services import mirrorlist_rebuild_request

    def queue() -> None:
        try:
            mirrorlist_rebuild_request()
        except Exception:  # a failed queueing must not break the registry write; the schedule catches up
            log.exception("mirrorlist: could not queue a rebuild")

    transaction.on_commit(queue)
