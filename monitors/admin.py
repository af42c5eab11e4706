from django.contrib import admin

from monitors.models import Channel


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "kind", "min_severity", "enabled"]
    list_filter = ["kind", "min_severity", "enabled", "team"]
    list_select_related = ["team"]
