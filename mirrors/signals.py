"""Signals of the mirrors app. Receivers only queue work (the mirrorlist rebuild), never do it inline."""

from django.dispatch import Signal

# The registry changed in a way the mirrorlist must see (a host, URL, netblock, country or ASN); sent by
# mirrors.registry services after their transaction commits.
registry_changed = Signal()
# A probe run finished (or a check-in changed a URL's state); sent by mirrors.probing.
probes_finished = Signal()
