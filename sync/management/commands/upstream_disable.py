"""manage.py upstream_disable NAME."""

from sync.management.commands._upstream_switch import SwitchCommand


class Command(SwitchCommand):
    help = "Disable an upstream: `sync` and the hourly sync skip it; its files stay published."
    enabled = False
    said = "upstream {name} disabled: syncs skip it; its files stay in the catalogue and the published collections"
