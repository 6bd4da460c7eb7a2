"""Garbage: data files no revision references any more, removed once PUBLISH_GRACE_SECONDS have passed
(a mirror that copies while a publish switches still finds the files its repomd.json names)."""

from __future__ import annotations

import logging
import time

from django.conf import settings

from metadata.publishing.state import PublishState
from metadata.publishing.tree import CollectionTree

logger = logging.getLogger(__name__)


def garbage_prune(tree: CollectionTree) -> int:
    """Remove data files unreferenced for longer than PUBLISH_GRACE_SECONDS."""
    if not tree.state_path.exists():
        return 0
    cutoff = time.time() - settings.PUBLISH_GRACE_SECONDS
    state = PublishState(tree.state_path)
    removed = 0
    try:
        for path in state.garbage_due(cutoff):
            if not state.referenced(path):
                try:
                    tree.remove_data_file(path)
                    removed += 1
                except ValueError as error:  # recorded by an older version from a hostile row
                    logger.error("%s: not pruned: %s", tree.slug, error)
            state.garbage_discard([path])
        state.commit()
    finally:
        state.close()
    if removed:
        logger.info("%s: pruned %s data files", tree.slug, removed)
    return removed
