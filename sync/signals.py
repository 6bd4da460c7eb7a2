"""Signals the sync app sends; receivers live in higher apps (imports only go down).

catalogue_changed: a sync changed the catalogue (new, updated, removed or downloaded files, changed or
    removed projects). Sent once per sync_all (or per upstream_sync with publish=True), after the store
    lock is released, with `runs` (the StoreRun rows). metadata connects a receiver that queues
    publication; a receiver must only queue work and never raise into the sync.
"""

from django.dispatch import Signal

catalogue_changed = Signal()
