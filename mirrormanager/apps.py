from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """Accounts, the queue heartbeat and the queue schedules."""

    name = "mirrormanager"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from mirrormanager.schedules import install_schedules_after_migrate

        post_migrate.connect(install_schedules_after_migrate, dispatch_uid="mirrormanager.install_schedules")
