from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.db.models.signals import post_migrate


class ProjectConfig(AppConfig):
    """The project itself: no models, only its commands (demo, install_schedules) and the schedules hook."""

    name = "mirrormanager"
    label = "mirrormanager"
    verbose_name = "Project"

    def ready(self) -> None:
        from mirrormanager.schedules import install_schedules_after_migrate

        post_migrate.connect(install_schedules_after_migrate, dispatch_uid="mirrormanager.install_schedules")


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with the project's site (branding, the site's own log-in)."""

    default_site = "mirrormanager.admin.MirrorAdminSite"
