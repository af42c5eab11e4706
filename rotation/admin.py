from django.contrib import admin

from rotation.models import (
    Absence,
    ApiToken,
    EscalationLevel,
    Handover,
    Membership,
    Override,
    Shift,
    Team,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = [
        "user",
        "role",
        "phone",
        "chat_handle",
        "github_login",
        "active",
        "joined_on",
        "left_on",
    ]


class EscalationInline(admin.TabularInline):
    model = EscalationLevel
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "watch_length_days", "handover_time"]
    prepopulated_fields = {"slug": ["name"]}
    exclude = ["feed_token"]
    inlines = [MembershipInline, EscalationInline]


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ["membership", "start", "end", "reason"]
    list_filter = ["membership__team"]
    list_select_related = ["membership__user", "membership__team"]


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["team", "membership", "start", "end", "locked"]
    list_filter = ["team"]
    list_select_related = ["team", "membership__user", "membership__team"]
    date_hierarchy = "start"


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin):
    list_display = ["team", "membership", "covered", "start", "end", "reason"]
    list_filter = ["team"]
    list_select_related = [
        "team",
        "membership__user",
        "membership__team",
        "covered__user",
        "covered__team",
    ]


@admin.register(Handover)
class HandoverAdmin(admin.ModelAdmin):
    list_display = ["shift", "incoming", "created_at", "acknowledged_at"]
    list_select_related = ["shift__membership__user", "incoming__user", "incoming__team"]
    readonly_fields = ["snapshot"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Revoke here; tokens are issued on "My watches", the only place that shows one."""

    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked"]
    list_filter = ["revoked"]
    list_select_related = ["user"]
    fields = ["name", "user", "hint", "created_at", "last_used_at", "revoked"]
    readonly_fields = ["name", "user", "hint", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False
