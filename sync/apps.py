from django.apps import AppConfig


class SyncConfig(AppConfig):
    """Upstreams, the origin store, the sync engine and store verification."""

    name = "sync"
    verbose_name = "Origin sync"

    def ready(self) -> None:
        from core.selectors import health_check_register
        from sync.selectors import sync_health_check

        health_check_register(sync_health_check)
