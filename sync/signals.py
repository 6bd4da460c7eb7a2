"""Signals the sync app sends; receivers live in higher apps (imports only go down).

catalogue_changed: a sync changed the catalogue (new, updated, removed or downloaded files, changed or
    removed projects). Sent once per sync_all (or per upstream_sync with publish=True), after the store
    lock is released, with `runs` (the StoreRun rows). metadata connects a receiver that queues
    publication; a receiver must only queue work and never raise into the sync.

blobs_repaired: verify --repair wrote new blobs for damaged ones. Sent once per verify that repaired
    something, with `sha256s` (the repaired blobs). metadata re-links the published copies at once (the
    trees' hardlinks still hold the damaged inodes); a receiver must never raise into the verify.
"""

from django.dispatch import Signal

catalogue_changed = Signal()
blobs_repaired = Signal()
