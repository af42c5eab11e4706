from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from rotation.models import (
    Absence,
    ApiToken,
    EscalationLevel,
    Handover,
    Membership,
    Override,
    Profile,
    Shift,
    Team,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "joined_on", "left_on"]


class EscalationInline(admin.TabularInline):
    model = EscalationLevel
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "watch_length_days", "handover_time"]
    prepopulated_fields = {"slug": ["name"]}
    exclude = ["feed_token"]
    inlines = [MembershipInline, EscalationInline]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    """Contacts are edited by their owner on "My watches"; the secrets only show their end."""

    list_display = ["user", "phone", "chat_handle", "github_login"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "github_login"]
    fields = ["user", "phone", "chat_handle", "github_login", "ntfy_topic", "secrets"]
    readonly_fields = ["user", "secrets"]

    @admin.display(description=_("secrets"))
    def secrets(self, profile):
        # Never in full: whoever has them posts or pages in that person's name.
        return " · ".join(
            f"{Profile._meta.get_field(name).verbose_name}: {profile.masked(name)}"
            for name in Profile.SECRETS
            if profile.masked(name)
        )

    def has_add_permission(self, request):
        return False


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ["membership", "start", "end", "reason"]
    list_filter = ["membership__team"]


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["team", "membership", "start", "end", "locked"]
    list_filter = ["team"]
    date_hierarchy = "start"


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin):
    list_display = ["team", "membership", "covered", "start", "end", "reason"]
    list_filter = ["team"]


@admin.register(Handover)
class HandoverAdmin(admin.ModelAdmin):
    list_display = ["shift", "incoming", "created_at", "acknowledged_at"]
    readonly_fields = ["snapshot"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Revoke here; tokens are issued on "My watches", the only place that shows one."""

    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked"]
    list_filter = ["revoked"]
    fields = ["name", "user", "hint", "created_at", "last_used_at", "revoked"]
    readonly_fields = ["name", "user", "hint", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False
