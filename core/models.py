from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person: a mirror operator, or a project admin when is_staff is set."""

    class Meta:
        db_table = "core_user"


class WorkerHeartbeat(models.Model):
    """The last time a queue worker ran the heartbeat task; /healthz reads its age."""

    cluster = models.CharField(max_length=200, unique=True)
    beat_at = models.DateTimeField()
    host = models.CharField(max_length=255, blank=True)
    pid = models.IntegerField(null=True)

    def __str__(self) -> str:
        return f"{self.cluster} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
