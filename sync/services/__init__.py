"""Writes of the sync app: upstreams, the catalogue, syncs, and the store's verification and collection."""

from sync.services.catalogue import catalogue_next_serial
from sync.services.store import store_collect, store_verify
from sync.services.syncing import catalogue_changed_send, run_changed, sync_all, upstream_sync
from sync.services.upstreams import (
    upstream_add,
    upstream_add_checked,
    upstream_check,
    upstream_enabled_set,
    upstream_remove,
)

__all__ = [
    "catalogue_changed_send",
    "catalogue_next_serial",
    "run_changed",
    "store_collect",
    "store_verify",
    "sync_all",
    "upstream_add",
    "upstream_add_checked",
    "upstream_check",
    "upstream_enabled_set",
    "upstream_remove",
    "upstream_sync",
]
