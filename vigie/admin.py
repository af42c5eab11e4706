from django.contrib import admin

from vigie.models import Heartbeat, Notification


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "at"]
    readonly_fields = ["name", "at"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
