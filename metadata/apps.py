from django.apps import AppConfig


class MetadataConfig(AppConfig):
    """Collections and their static publication."""

    name = "metadata"
    verbose_name = "Collections"
