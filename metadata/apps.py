from django.apps import AppConfig


class MetadataConfig(AppConfig):
    """Collections and their static publication."""

    name = "metadata"
    verbose_name = "Collections"

    def ready(self) -> None:
        from metadata.receivers import publication_queue, published_copies_repair
        from sync.signals import blobs_repaired, catalogue_changed

        catalogue_changed.connect(publication_queue, dispatch_uid="metadata.publication_queue")
        blobs_repaired.connect(published_copies_repair, dispatch_uid="metadata.published_copies_repair")
