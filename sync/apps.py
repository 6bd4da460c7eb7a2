from django.apps import AppConfig


class SyncConfig(AppConfig):
    """Upstreams, the origin store, the sync engine and store verification."""

    name = "sync"
    verbose_name = "Origin sync"
