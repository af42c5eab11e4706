from django.contrib import admin

from vigie.models import Heartbeat, Notification


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only Vigie's own processes write: shown, never added, changed or deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    # Written by the worker only: a heartbeat added by hand would fake its health.
    list_display = ["name", "at"]
    readonly_fields = ["name", "at"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Read only: rows are written by enqueue() and the worker. `config` is left out: it may
    hold a webhook URL or a routing key typed in clear."""

    list_display = ["subject", "label", "kind", "severity", "state", "attempts", "created_at"]
    list_filter = ["state", "kind", "severity"]
    search_fields = ["subject", "label", "group", "key"]
    date_hierarchy = "created_at"
    fields = [
        "key",
        "group",
        "kind",
        "label",
        "subject",
        "text",
        "url",
        "severity",
        "event",
        "dedup_key",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    ]
    readonly_fields = fields
