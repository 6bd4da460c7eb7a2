from django.apps import AppConfig


class MetadataConfig(AppConfig):
    """Collections and their static publication."""

    name = "metadata"
    verbose_name = "Collections"

    def ready(self) -> None:
        from metadata.receivers import publication_queue
        from sync.signals import catalogue_changed

        catalogue_changed.connect(publication_queue, dispatch_uid="metadata.publication_queue")
