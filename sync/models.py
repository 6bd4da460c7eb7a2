"""The origin catalogue: upstreams, projects, files and sync runs.

Models hold data and invariants only; reading upstreams and writing the store live in services.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models

UPSTREAM_SCHEMES = ("http", "https", "file")


def validate_upstream_url(value: str) -> None:
    """An upstream is an http(s) simple index or a local static tree (file:///path/simple/)."""
    scheme = urlsplit(value).scheme.lower()
    if scheme not in UPSTREAM_SCHEMES:
        raise ValidationError(f"upstream URL {value!r}: the scheme must be http, https or file", code="invalid_scheme")
    if scheme == "file":
        parts = urlsplit(value)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValidationError(f"upstream URL {value!r}: a file URL must be file:///absolute/path/")
        return
    URLValidator(schemes=["http", "https"])(value)


class Upstream(models.Model):
    """A simple index (PEP 691 JSON or PEP 503 HTML) that the origin syncs from."""

    name = models.SlugField(max_length=100, unique=True)
    url = models.CharField(
        max_length=500,
        validators=[validate_upstream_url],
        help_text="Root of the simple index (http, https or file://), ending in /simple/",
    )
    enabled = models.BooleanField(default=True)
    # The origin's own include/exclude rules, in the shape of sync.filters.FilterSpec.
    filters = models.JSONField(default=dict, blank=True)
    # Change tracking of the root page: a serial where offered, else HTTP validators.
    last_serial = models.BigIntegerField(null=True, blank=True)
    root_etag = models.CharField(max_length=500, blank=True)
    root_last_modified = models.CharField(max_length=100, blank=True)
    root_sha256 = models.CharField(max_length=64, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    """One project of an upstream. A removed project stays as a tombstone until it is published away."""

    upstream = models.ForeignKey(Upstream, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200, help_text="As the upstream spells it")
    normalized_name = models.CharField(max_length=200, db_index=True)
    # The project page as the root page links it (used when the root answers 304).
    url = models.CharField(max_length=1000, blank=True)
    last_serial = models.BigIntegerField(null=True, blank=True)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    page_sha256 = models.CharField(max_length=64, blank=True)
    # Raised from sync.services.catalogue_next_serial() whenever the project or its files change,
    # so publication rewrites only what changed since its last run.
    change_serial = models.BigIntegerField(default=0, db_index=True)
    removed = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["normalized_name"]
        constraints = [
            models.UniqueConstraint(fields=["upstream", "normalized_name"], name="project_unique_per_upstream")
        ]

    def __str__(self) -> str:
        return self.name


class File(models.Model):
    """One distribution file of a project, as listed upstream, and its state in the origin store."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        STORED = "stored", "Stored and verified"
        FAILED = "failed", "Failed"

    class PackageType(models.TextChoices):
        WHEEL = "bdist_wheel", "Wheel"
        SDIST = "sdist", "Source distribution"
        EGG = "bdist_egg", "Egg"
        OTHER = "other", "Other"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="files")
    filename = models.CharField(max_length=255)
    version = models.CharField(max_length=100, blank=True)
    package_type = models.CharField(max_length=20, choices=PackageType.choices)
    url = models.URLField(max_length=1000, help_text="Absolute upstream URL, fragment removed")
    # The hash the upstream promised, if any; sha256 is what the store holds (equal when both known).
    upstream_sha256 = models.CharField(max_length=64, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size = models.BigIntegerField(null=True, blank=True)
    upload_time = models.DateTimeField(null=True, blank=True)
    requires_python = models.CharField(max_length=500, blank=True)
    yanked = models.BooleanField(default=False)
    yanked_reason = models.TextField(blank=True)
    # PEP 658/714: the upstream's core-metadata hash ("" = none offered, "-" = offered without hash).
    core_metadata_sha256 = models.CharField(max_length=64, blank=True)
    # Every data-* attribute of the HTML anchor, or the JSON keys we do not model, as listed.
    attributes = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    failure_reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    stored_at = models.DateTimeField(null=True, blank=True)
    # Size and mtime of the blob at the last full verification, for `verify --quick`.
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_mtime_ns = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["filename"]
        constraints = [models.UniqueConstraint(fields=["project", "filename"], name="file_unique_per_project")]

    def __str__(self) -> str:
        return self.filename


class StoreRun(models.Model):
    """One run that holds the store: a sync, a verify or a collect (`kind`); what it did and how it ended.

    Admins read these. (Called SyncRun before it recorded verify and collect too; same table rows.)
    """

    class Kind(models.TextChoices):
        SYNC = "sync", "Sync"
        VERIFY = "verify", "Verify"
        COLLECT = "collect", "Collect unreferenced blobs"

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "OK"
        PARTIAL = "partial", "Partial (some files failed)"
        FAILED = "failed", "Failed"

    upstream = models.ForeignKey(Upstream, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SYNC)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING, db_index=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    projects_checked = models.PositiveIntegerField(default=0)
    projects_changed = models.PositiveIntegerField(default=0)
    projects_removed = models.PositiveIntegerField(default=0)
    projects_failed = models.PositiveIntegerField(default=0)
    files_new = models.PositiveIntegerField(default=0)
    files_updated = models.PositiveIntegerField(default=0)
    files_removed = models.PositiveIntegerField(default=0)
    files_failed = models.PositiveIntegerField(default=0)
    files_downloaded = models.PositiveIntegerField(default=0)
    files_checked = models.PositiveIntegerField(default=0)
    files_repaired = models.PositiveIntegerField(default=0)
    bytes_downloaded = models.BigIntegerField(default=0)
    # [{"filename": ..., "reason": ...}, ...], capped in size by the service that writes it.
    failures = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.outcome}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class CatalogueSerial(models.Model):
    """A single-row counter: the catalogue's own change serial (see Project.change_serial)."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"catalogue serial {self.value}"
