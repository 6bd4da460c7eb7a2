from django.apps import AppConfig


class MirrorsConfig(AppConfig):
    """Sites, hosts, restrictions, moderation, probes and the mirrorlist."""

    name = "mirrors"
    verbose_name = "Mirrors"

    def ready(self) -> None:
        from core.selectors import health_check_register
        from mirrors.mirrorlist import receivers  # noqa: F401 -- connects the rebuild receivers
        from mirrors.mirrorlist.selectors import mirrorlist_health_check

        health_check_register(mirrorlist_health_check)
