from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from triage.models import Action, Item, Source, SyncRun
from vigie.forms import SafeJSONField


class SourceForm(forms.ModelForm):
    # Write-only: the stored token is never sent back to a browser; blank keeps it.
    secret = forms.CharField(
        label=_("new stored token"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Used when no environment variable is named. Never shown back: leave blank to keep "
            "the current one."
        ),
    )
    clear_secret = forms.BooleanField(label=_("forget the stored token"), required=False)

    class Meta:
        model = Source
        fields = [
            "kind",
            "name",
            "team",
            "enabled",
            "sync_interval_minutes",
            "base_url",
            "organization",
            "scopes",
            "environment",
            "secret_env",
            "secret",
            "github_repository",
            "options",
        ]
        field_classes = {"scopes": SafeJSONField, "options": SafeJSONField}

    def clean_secret(self):
        return self.cleaned_data["secret"] or (self.instance.secret if self.instance.pk else "")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("clear_secret"):
            cleaned["secret"] = ""
        return cleaned


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = ["name", "kind", "team", "state", "last_success_at", "last_error_at", "enabled"]
    list_select_related = ["team"]
    list_filter = ["kind", "state", "enabled", "team"]
    search_fields = ["name", "organization"]
    readonly_fields = [
        "has_stored_secret",
        "state",
        "last_error",
        "last_error_at",
        "last_success_at",
        "high_water_mark",
        "last_reconciled_at",
        "consecutive_failures",
    ]
    fieldsets = [
        (None, {"fields": ["kind", "name", "team", "enabled", "sync_interval_minutes"]}),
        (
            _("Upstream"),
            {
                "fields": [
                    "base_url",
                    "organization",
                    "scopes",
                    "environment",
                    "secret_env",
                    "has_stored_secret",
                    "secret",
                    "clear_secret",
                    "github_repository",
                    "options",
                ]
            },
        ),
        (_("Sync"), {"fields": readonly_fields[1:]}),
    ]

    @admin.display(description=_("a token is stored"), boolean=True)
    def has_stored_secret(self, source):
        return bool(source.secret)

    def save_model(self, request, obj, form, change):
        # A new configuration deserves a sync now, not after the failure's backoff.
        obj.next_sync_at = None
        super().save_model(request, obj, form, change)


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = [
        "short_id",
        "title",
        "source",
        "level",
        "upstream_status",
        "qualification",
        "came_back",
        "last_seen",
    ]
    list_filter = ["source", "kind", "level", "qualification", "came_back", "upstream_status"]
    search_fields = ["short_id", "title", "origin", "external_id"]
    list_select_related = ["source"]
    date_hierarchy = "last_seen"
    # Mirrored from upstream and qualified from the board: the admin only looks.
    readonly_fields = [f.name for f in Item._meta.fields]

    def has_add_permission(self, request):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Action)
class ActionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "item", "user", "upstream_ok"]
    list_filter = ["action", "upstream_ok"]
    list_select_related = ["item", "user"]
    search_fields = ["item__short_id", "item__title"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "source",
        "created",
        "updated",
        "unchanged",
        "skipped",
        "requests",
        "error",
    ]
    list_filter = ["source"]
    list_select_related = ["source"]
