"""Admin: collections (edited here, filters checked by the filter engine) and their revisions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django_q.tasks import async_task

from metadata.forms import CollectionForm
from metadata.models import FILTER_FIELDS, Collection, Revision


class RevisionInline(admin.TabularInline):
    model = Revision
    extra = 0
    can_delete = False
    max_num = 0
    fields = ("number", "timestamp", "projects", "files", "bytes", "full", "repomd_sha256")
    readonly_fields = fields
    ordering = ("-number",)
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-number")


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    form = CollectionForm
    list_display = ("slug", "title", "public", "upstream", "revision", "published_at")
    list_filter = ("public", "upstream")
    search_fields = ("slug", "title", "description")
    readonly_fields = ("revision", "published_serial", "published_at", "created_at")
    fieldsets = (
        (None, {"fields": ("slug", "title", "description", "public", "upstream", "max_lag_seconds")}),
        (
            "Filters (empty = no restriction)",
            {
                "fields": FILTER_FIELDS,
                "description": "Lists take one entry a line, or entries separated by commas. Changing filters"
                " makes the next publish of this collection a full one.",
            },
        ),
        ("Publication", {"fields": ("revision", "published_serial", "published_at", "created_at")}),
    )
    inlines = [RevisionInline]
    actions = ["publish_now", "publish_full_now"]

    def _publish(self, request: HttpRequest, queryset: QuerySet[Collection], *, full: bool) -> None:
        slugs = sorted(queryset.values_list("slug", flat=True))
        for slug in slugs:
            async_task("metadata.tasks.publish_task", slug, full, task_name=f"publish now: {slug}"[:100])
        kind = "full publish" if full else "publish"
        self.message_user(
            request,
            f"{kind.capitalize()} of {', '.join(slugs)} queued: a queue worker runs it; the new revision (if"
            " anything changed) appears under Revisions.",
            messages.SUCCESS,
        )

    @admin.action(description="Publish now (queued for the worker)")
    def publish_now(self, request: HttpRequest, queryset: QuerySet[Collection]) -> None:
        self._publish(request, queryset, full=False)

    @admin.action(description="Publish in full now (every page checked; queued)")
    def publish_full_now(self, request: HttpRequest, queryset: QuerySet[Collection]) -> None:
        self._publish(request, queryset, full=True)


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ("collection", "number", "timestamp", "projects", "files", "bytes", "full", "duration_seconds")
    list_filter = ("collection", "full")
    search_fields = ("repomd_sha256",)
    readonly_fields = [field.name for field in Revision._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # revisions are written by publication only

    def has_change_permission(self, request, obj=None) -> bool:
        return False
