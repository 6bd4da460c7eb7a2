"""Syncing an upstream into the catalogue and the store (see entry for how a run goes)."""

from sync.services.syncing.context import SyncAborted
from sync.services.syncing.entry import catalogue_changed_send, run_changed, sync_all, upstream_sync

__all__ = ["SyncAborted", "catalogue_changed_send", "run_changed", "sync_all", "upstream_sync"]
