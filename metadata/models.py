"""Collections (content subsets of the catalogue) and the history of their published revisions."""

from __future__ import annotations

import dataclasses

from django.db import models

from sync.filters import FilterSpec

# The collection's filter fields are FilterSpec's, one to one, by name.
FILTER_FIELDS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(FilterSpec))
# Of those, the lists (JSONField, empty = no restriction).
FILTER_LIST_FIELDS: tuple[str, ...] = tuple(
    field.name for field in dataclasses.fields(FilterSpec) if isinstance(field.default, tuple)
)


class Collection(models.Model):
    """A content subset, published as a static tree under MIRROR_ROOT/pub/<slug>/.

    The filter fields map one to one onto sync.filters.FilterSpec (FILTER_FIELDS), the engine shared with
    upstream filters.
    """

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    public = models.BooleanField(default=True)
    upstream = models.ForeignKey(
        "sync.Upstream",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="Only this upstream's projects; empty = every upstream",
    )
    max_lag_seconds = models.PositiveIntegerField(
        default=6 * 3600, help_text="How far behind the origin a mirror may be and still be listed"
    )
    # Filters (empty = no restriction). Project patterns are exact names or globs, matched normalized.
    include_projects = models.JSONField(default=list, blank=True)
    exclude_projects = models.JSONField(default=list, blank=True)
    package_types = models.JSONField(default=list, blank=True, help_text='e.g. ["bdist_wheel", "sdist"]')
    platform_tags = models.JSONField(
        default=list, blank=True, help_text='Wheel platform tags (globs), e.g. ["manylinux*_x86_64", "any"]'
    )
    python_versions = models.JSONField(default=list, blank=True, help_text='e.g. ["3.11", "3.12"]')
    include_prereleases = models.BooleanField(default=True)
    latest_versions = models.PositiveIntegerField(null=True, blank=True, help_text="Keep the latest N versions")
    max_file_size = models.BigIntegerField(null=True, blank=True, help_text="Bytes")
    # Publication state.
    revision = models.PositiveIntegerField(default=0)
    published_serial = models.BigIntegerField(default=0, help_text="Catalogue change serial of the last publish")
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def filter_spec(self) -> FilterSpec:
        """This collection's filters as the engine's value (validated like JSON input: ValueError if invalid)."""
        data = {name: getattr(self, name) for name in FILTER_FIELDS}
        for name in FILTER_LIST_FIELDS:
            data[name] = data[name] or []
        return FilterSpec.from_dict(data)


class Revision(models.Model):
    """One published revision of a collection: probes compare a mirror's repomd.json against these."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    repomd_sha256 = models.CharField(max_length=64, db_index=True)
    timestamp = models.DateTimeField()
    upstream_serial = models.BigIntegerField(null=True, blank=True)
    projects = models.PositiveIntegerField(default=0)
    files = models.PositiveIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    full = models.BooleanField(default=False, help_text="A full republish rather than an incremental one")
    duration_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["collection", "-number"]
        constraints = [models.UniqueConstraint(fields=["collection", "number"], name="revision_unique_number")]

    def __str__(self) -> str:
        return f"{self.collection.slug} r{self.number}"
