from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from monitors.models import (
    AlertRule,
    Channel,
    Check,
    Digest,
    Incident,
    IncidentEvent,
    MaintenanceWindow,
    Runbook,
    StatusUpdate,
)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "kind", "min_severity", "enabled"]
    list_filter = ["kind", "min_severity", "enabled", "team"]
    list_select_related = ["team"]


@admin.register(Check)
class CheckAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "kind", "state", "severity", "enabled", "managed_by"]
    list_filter = ["kind", "state", "severity", "category", "enabled", "team"]
    search_fields = ["name"]
    readonly_fields = [
        "managed_by",
        "state",
        "state_changed_at",
        "last_message",
        "last_checked_at",
        "next_run_at",
        "ping_token",
        "last_ping_at",
    ]
    fields = [
        "team",
        "name",
        "kind",
        "config",
        "interval",
        "timeout",
        "alert_after",
        "recover_after",
        "severity",
        "category",
        "runbook",
        "public",
        "allow_private",
        "enabled",
        *readonly_fields,
    ]

    def get_readonly_fields(self, request, obj=None):
        # Reaching private addresses (the database, the metadata service) is for superusers.
        if request.user.is_superuser:
            return self.readonly_fields
        return [*self.readonly_fields, "allow_private"]


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "kind", "source", "severity", "category", "enabled"]
    list_filter = ["kind", "severity", "category", "enabled", "team"]
    list_select_related = ["team", "source"]
    search_fields = ["name"]
    readonly_fields = ["managed_by", "evaluated_at"]
    help_texts = {
        "params": _(
            "JSON, per type (README, alert rules). discarded_jobs: count and window, and"
            " rate_warning / rate_critical (percent of the jobs finished in the last hour),"
            " read only from the sources that know every finished job: django-q2, and GoodJob"
            " keeping its finished jobs (preserve_job_records). Over the others only the"
            " discard count applies."
        )
    }
    fields = [
        "team",
        "name",
        "kind",
        "source",
        "params",
        "severity",
        "category",
        "action_interval",
        "runbook",
        "enabled",
        *readonly_fields,
    ]

    def get_form(self, request, obj=None, **kwargs):
        return super().get_form(request, obj, help_texts=self.help_texts, **kwargs)


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    """What was sent, once per team and period: read only."""

    list_display = ["day", "period", "team", "sent_at"]
    list_filter = ["period", "team"]
    list_select_related = ["team"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "start", "end", "weekday", "weekly_start", "weekly_end"]
    list_filter = ["team"]
    filter_horizontal = ["checks"]


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "kind", "actor", "text", "data"]

    def has_add_permission(self, request, obj=None):
        return False


class StatusUpdateInline(admin.TabularInline):
    model = StatusUpdate
    extra = 0
    fields = ["at", "text", "author"]
    readonly_fields = ["author"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Read-mostly: incidents move through their page, link and API, which keep the timeline.
    What the public status page shows of them is edited here or on the incident page."""

    list_display = ["title", "team", "severity", "state", "opened_at", "current_level", "public"]
    list_filter = ["state", "severity", "public", "team"]
    inlines = [StatusUpdateInline, IncidentEventInline]
    EDITABLE = ("public", "public_title")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name not in self.EDITABLE]

    def save_formset(self, request, form, formset, change):
        for update in formset.save(commit=False):
            if update.author_id is None:
                update.author = request.user
            update.save()
        for gone in formset.deleted_objects:
            gone.delete()

    def has_add_permission(self, request):
        return False


@admin.register(Runbook)
class RunbookAdmin(admin.ModelAdmin):
    list_display = ["slug", "title", "team", "updated_at"]
    list_filter = ["team"]
    search_fields = ["slug", "title", "body"]
    prepopulated_fields = {"slug": ["title"]}
