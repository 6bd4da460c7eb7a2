from django.apps import AppConfig


class MirrorsConfig(AppConfig):
    """Sites, hosts, restrictions, moderation, probes and the mirrorlist."""

    name = "mirrors"
    verbose_name = "Mirrors"

    def ready(self) -> None:
        from mirrors.mirrorlist import receivers  # noqa: F401 -- connects the rebuild receivers
