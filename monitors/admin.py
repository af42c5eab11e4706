from django.contrib import admin

from monitors.models import Channel


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "kind", "enabled", "last_sent_at", "last_error_at"]
    list_select_related = ["team"]
    list_filter = ["kind", "enabled", "team"]
    readonly_fields = ["last_error", "last_error_at", "last_sent_at"]
