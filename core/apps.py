from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The bottom app: accounts, the queue heartbeat, health and the file-system helpers."""

    name = "core"
    label = "core"
    verbose_name = "Core"
