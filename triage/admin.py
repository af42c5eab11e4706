import re

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from triage.models import Action, Item, Release, Source, SyncRun
from triage.sources import REGISTRY, backend_class
from vigie.forms import SafeJSONField
from vigie.validators import BAD_CHARACTERS_MESSAGE, has_bad_characters


class ListInput(forms.CharField):
    """A list a person types: one entry per line, or separated by commas."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(str(entry) for entry in value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value)
        if has_bad_characters(text):
            raise ValidationError(BAD_CHARACTERS_MESSAGE)
        entries = (entry.strip() for entry in re.split(r"[\n,]", text))
        return list(dict.fromkeys(entry for entry in entries if entry))


class SourceForm(forms.ModelForm):
    scopes = ListInput(
        label=_("projects or repositories"),
        required=False,
        help_text=_(
            "One per line, or separated by commas: Sentry project slugs or ids, GitHub "
            "repositories (owner/name)."
        ),
    )
    # Write-only: the stored token is never sent back to a browser; blank keeps it. What was
    # typed in this very form comes back when another field is refused, so it is not lost.
    secret = forms.CharField(
        label=_("new stored token"),
        required=False,
        widget=forms.PasswordInput(render_value=True),
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
        field_classes = {"options": SafeJSONField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.pop("secret", None)  # the stored one: never rendered

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
    # The fields a kind is configured with, among these, come from its backend's `fields`.
    KIND_FIELDS = ["base_url", "organization", "scopes", "environment", "secret_env", "secret"]
    # Shown with the secret: whether one is stored, and how to forget it.
    SECRET_FIELDS = ["has_stored_secret", "secret", "clear_secret"]

    def get_fieldsets(self, request, obj=None):
        if obj is not None and obj.kind in REGISTRY:
            wanted = backend_class(obj.kind).fields
        else:  # a new source: every kind's fields
            wanted = self.KIND_FIELDS
        upstream = []
        for name in self.KIND_FIELDS:
            if name in wanted:
                upstream += self.SECRET_FIELDS if name == "secret" else [name]
        return [
            (None, {"fields": ["kind", "name", "team", "enabled", "sync_interval_minutes"]}),
            (_("Upstream"), {"fields": [*upstream, "github_repository", "options"]}),
            (_("Sync"), {"fields": self.readonly_fields[1:]}),
        ]

    @admin.display(description=_("last error"))
    def last_error(self, source):
        return source.last_error

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


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    """What the error trackers' releases were mirrored as (triage.releases), the "since
    release" of the status page: read only, the next mirror would overwrite an edit."""

    list_display = ["version", "source", "deployed_at"]
    list_filter = ["source"]
    list_select_related = ["source"]
    search_fields = ["version"]
    date_hierarchy = "deployed_at"
