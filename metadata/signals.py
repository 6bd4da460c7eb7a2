"""Signals the metadata app sends; receivers live in higher apps (imports only go down).

revision_committed: a publish committed a revision of a collection; its repodata/repomd.json is in
    place in the tree and its Revision row is stored. Sent with `collection` (metadata.models.Collection)
    and `revision` (metadata.models.Revision), once per new revision, after the publish released its
    lock. mirrors connects a receiver that rebuilds its mirrorlist table; a receiver must only queue
    work: a failing receiver is logged and never fails the publish.
"""

from django.dispatch import Signal

revision_committed = Signal()
