"""manage.py upstream_enable NAME."""

from sync.management.commands._upstream_switch import SwitchCommand


class Command(SwitchCommand):
    help = "Enable an upstream: `sync` and the hourly sync include it again."
    enabled = True
    said = "upstream {name} enabled: the next sync includes it"
