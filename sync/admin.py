"""Admin pages of the catalogue: upstreams (editable), projects and files (read mostly), runs (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django_q.tasks import async_task

from sync.models import File, Project, StoreRun, Upstream
from sync.selectors import run_deadline_passed, run_overdue_describe


@admin.register(Upstream)
class UpstreamAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "enabled", "last_serial", "last_synced_at")
    list_filter = ("enabled",)
    search_fields = ("name", "url")
    readonly_fields = ("last_serial", "root_etag", "root_last_modified", "root_sha256", "last_synced_at", "created_at")
    actions = ["sync_now"]

    @admin.action(description="Sync now (queued for the worker)")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Upstream]) -> None:
        names = sorted(queryset.values_list("name", flat=True))
        task_id = async_task("sync.tasks.upstreams_sync_task", names, task_name=f"sync now: {', '.join(names)}"[:100])
        self.message_user(
            request,
            f"Sync of {', '.join(names)} queued (task {task_id}): a queue worker runs it; its result is under"
            " Sync runs, and a sync that changed something queues a publish.",
            messages.SUCCESS,
        )


class YankedMark:
    """Only yanked files are marked: a red cross beside every other file read as an error."""

    @admin.display(description="yanked", ordering="yanked")
    def yanked_mark(self, file: File) -> str:
        if not file.yanked:
            return ""
        return f"yanked: {file.yanked_reason}" if file.yanked_reason else "yanked"


class FileInline(YankedMark, admin.TabularInline):
    model = File
    fields = ("filename", "version", "package_type", "state", "size", "yanked_mark", "sha256")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "upstream", "change_serial", "removed", "updated_at")
    list_filter = ("upstream", "removed")
    search_fields = ("name", "normalized_name")
    readonly_fields = [field.name for field in Project._meta.fields]
    inlines = [FileInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(File)
class FileAdmin(YankedMark, admin.ModelAdmin):
    list_display = ("filename", "project", "state", "size", "yanked_mark", "attempts", "stored_at", "verified_at")
    list_filter = ("state", "package_type", "yanked")
    search_fields = ("filename", "sha256")
    list_select_related = ("project",)
    readonly_fields = [field.name for field in File._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(StoreRun)
class StoreRunAdmin(admin.ModelAdmin):
    """Every sync, verify and collect run, read-only: what it did, how long, what failed."""

    list_display = (
        "id",
        "kind",
        "upstream",
        "outcome",
        "past_deadline",
        "started_at",
        "duration",
        "files_new",
        "files_updated",
        "files_removed",
        "files_downloaded",
        "files_failed",
        "bytes_downloaded",
    )
    list_filter = ("kind", "outcome", "upstream")
    date_hierarchy = "started_at"
    # "failures" is shown once, as failure_list (one line each), not also as raw JSON.
    readonly_fields = [field.name for field in StoreRun._meta.fields if field.name != "failures"] + [
        "past_deadline",
        "duration",
        "failure_list",
    ]
    exclude = ("failures",)

    @admin.display(description="deadline")
    def past_deadline(self, run: StoreRun) -> str:
        return "PAST ITS DEADLINE: " + run_overdue_describe(run) if run_deadline_passed(run) else ""

    @admin.display(description="duration")
    def duration(self, run: StoreRun) -> str:
        seconds = run.duration_seconds
        return "running" if seconds is None else f"{seconds:.1f} s"

    @admin.display(description="failures")
    def failure_list(self, run: StoreRun) -> str:
        lines = [
            f"{failure.get('project', '')} {failure.get('filename', '')}: {failure.get('reason', '')}".strip()
            for failure in run.failures or []
        ]
        return "\n".join(lines) or "none"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
