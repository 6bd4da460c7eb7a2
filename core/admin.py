from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from core.models import User, WorkerHeartbeat


@admin.register(User)
class MirrorUserAdmin(UserAdmin):
    """Operators and project admins (is_staff)."""


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("cluster", "beat_at", "host", "pid")
    readonly_fields = ("cluster", "beat_at", "host", "pid")

    def has_add_permission(self, request) -> bool:
        return False
